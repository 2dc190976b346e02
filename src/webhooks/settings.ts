/** What the webhooks need from configuration (config.ts maps RG_WEBHOOK_* into it). */
export interface WebhookSettings {
  /** RG_WEBHOOK_SECRET as given (one or more whsec_…); null = webhooks off */
  secret: string | null
  /** hosts and host:port that may be non-public (and plain http) */
  allowedHosts: string[]
  timeoutMs: number
  retryBaseMs: number
  retryMaxMs: number
  maxAttempts: number
  visibilityTimeoutMs: number
  concurrency: number
  concurrencyPerTarget: number
}
