/**
 * Which methods a path answers to, for 405 + Allow (RFC 9110 §15.5.6). Fastify's router only says "no route
 * for this method and path"; a second find-my-way router holding every route (same options) tells a wrong
 * method on a known path apart from an unknown path.
 */
import FindMyWay from 'find-my-way'

type Method = FindMyWay.HTTPMethod

export class AllowedMethods {
  private readonly router = FindMyWay({ maxParamLength: 300 })
  private readonly methods = new Set<Method>()

  /** Records a route as Fastify's onRoute hook sees it; catch-alls (CORS's OPTIONS *) would allow every path. */
  add (method: string | string[], url: string): void {
    if (url === '*' || url === '/*') return
    for (const m of (Array.isArray(method) ? method : [method])) {
      const verbs = (m === 'GET' ? ['GET', 'HEAD'] : [m]) as Method[]
      for (const verb of verbs) {
        if (this.router.hasRoute(verb, url)) continue
        this.router.on(verb, url, () => {})
        this.methods.add(verb)
      }
    }
  }

  /** Methods the path answers to, sorted (empty: the path is unknown). */
  for (path: string): string[] {
    return [...this.methods].filter(m => this.router.find(m, path) !== null).sort()
  }
}
