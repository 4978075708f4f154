/**
 * The credentials of the drain controller: the execution role's, which Lambda hands every
 * function in its environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: Lambda
 * developer guide, "Defined runtime environment variables"). The bundle puts this module in place
 * of the SDK's default credential chain (`@aws-sdk/credential-provider-node`, see .projenrc.ts):
 * the chain's other sources (SSO, shared config files, credential processes, web identity, the
 * instance metadata service) and the STS and SSO clients they carry are a quarter of the bundle,
 * and a Lambda function never reaches them, since the environment answers first.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** The credential provider the SDK clients use by default: the environment's, and nothing else. */
export const defaultProvider: typeof fromEnv = init => fromEnv(init);
