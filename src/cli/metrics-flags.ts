/** The metrics endpoint's security flags, shared by `herald controller` and `herald speaker`. */
import type { Argv } from 'yargs';
import { HeraldError } from '../core/errors.js';

export interface MetricsSecurityArgs {
  'metrics-secure': boolean;
  'metrics-cert-file'?: string;
  'metrics-key-file'?: string;
}

export function metricsSecurityOptions<T>(y: Argv<T>): Argv<T & MetricsSecurityArgs> {
  return y
    .option('metrics-secure', {
      type: 'boolean',
      default: true,
      describe:
        'serve /metrics over HTTPS to bearer tokens the API server authenticates (TokenReview) and allows `get` on /metrics (SubjectAccessReview); --metrics-secure=false serves plain HTTP to anyone',
    })
    .option('metrics-cert-file', {
      type: 'string',
      describe: 'PEM serving certificate for /metrics (default: self-signed, generated at start)',
    })
    .option('metrics-key-file', { type: 'string', describe: 'PEM private key of --metrics-cert-file' }) as Argv<
    T & MetricsSecurityArgs
  >;
}

/** The runController/runSpeaker option: undefined for plain HTTP. */
export function metricsSecurityFrom(args: MetricsSecurityArgs): { certFile?: string; keyFile?: string } | undefined {
  const certFile = args['metrics-cert-file'];
  const keyFile = args['metrics-key-file'];
  if (!args['metrics-secure']) {
    if (certFile !== undefined || keyFile !== undefined)
      throw new HeraldError(
        'Usage',
        '--metrics-cert-file and --metrics-key-file need --metrics-secure (plain HTTP has no certificate)',
      );
    return undefined;
  }
  return { ...(certFile !== undefined ? { certFile } : {}), ...(keyFile !== undefined ? { keyFile } : {}) };
}
