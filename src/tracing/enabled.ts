/**
 * Whether the OpenTelemetry SDK starts, from the standard variables only: on when an OTLP endpoint is given
 * (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and OTEL_SDK_DISABLED is not "true".
 * Pure: register.ts passes process.env in.
 * @see https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
 */
type Env = Record<string, string | undefined>

const set = (value: string | undefined): boolean => value !== undefined && value.trim() !== ''

export function tracingWanted (env: Env): boolean {
  // The spec: boolean variables are "true" case-insensitively; anything else (unset, "false", typos) is false.
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false
  return set(env.OTEL_EXPORTER_OTLP_ENDPOINT) || set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
}
