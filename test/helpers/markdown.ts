/**
 * What a Markdown page offers and asks for, read the way GitHub renders it: the anchors its headings (and explicit
 * `<a id>` / `<a name>`) produce, and the links it makes. Fenced code and inline code are neither headings nor
 * links. Used by the link and runbook contract tests.
 * @see https://github.com/Flet/github-slugger (the slug GitHub gives a heading)
 */

/** The page's lines outside fenced code blocks (``` or ~~~), each with its 1-based line number. */
function prose (markdown: string): Array<{ line: number, text: string }> {
  const out: Array<{ line: number, text: string }> = []
  let fence: string | undefined
  markdown.split('\n').forEach((text, i) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(text)?.[1]
    if (marker !== undefined && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined
      return
    }
    if (fence === undefined) out.push({ line: i + 1, text })
  })
  return out
}

/** GitHub's slug of a heading's text: rendered text lowercased, punctuation dropped, each space a hyphen. */
export function slug (heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link shows its text
    .replace(/<[^>]+>/g, '') // inline HTML is not text
    .replace(/[`*]/g, '') // code and emphasis marks are not text (underscores are kept, as GitHub does)
    .trim()
    .toLowerCase()
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-')
}

/** Every anchor the page defines: heading slugs (a repeated one gets -1, -2, …) and `<a id|name="…">`. */
export function anchors (markdown: string): Set<string> {
  const found = new Set<string>()
  const seen = new Map<string, number>()
  for (const { text } of prose(markdown)) {
    const heading = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(text)?.[1]
    if (heading !== undefined) {
      const base = slug(heading)
      const n = seen.get(base) ?? 0
      seen.set(base, n + 1)
      found.add(n === 0 ? base : `${base}-${n}`)
    }
    for (const m of text.matchAll(/<a\s[^>]*\b(?:id|name)=["']([^"']+)["']/gi)) found.add(m[1] ?? '')
  }
  return found
}

export interface Link { line: number, target: string }

/** Every link target the page makes: inline `[text](target)` / `![alt](target)` and reference definitions. */
export function links (markdown: string): Link[] {
  const out: Link[] = []
  for (const { line, text } of prose(markdown)) {
    const bare = text.replace(/(`+)(?:(?!\1).)+?\1/g, '') // inline code spans are not links
    for (const m of bare.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+["'][^)]*["'])?\s*\)/g)) out.push({ line, target: m[1] ?? '' })
    const def = /^ {0,3}\[[^\]]+\]:\s+<?(\S+?)>?(?:\s|$)/.exec(bare)?.[1]
    if (def !== undefined) out.push({ line, target: def })
    for (const m of bare.matchAll(/<a\s[^>]*\bhref=["']([^"']+)["']/gi)) out.push({ line, target: m[1] ?? '' })
  }
  return out
}
