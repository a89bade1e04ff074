// Matches a request path against the table of implemented methods and their path templates.

export interface RouteMatch<R> {
  route: R;
  template: string;
  pathParams: Record<string, string>;
}

interface Entry<R> {
  method: string;
  template: string;
  segments: string[];
  route: R;
}

export class Router<R> {
  private entries: Entry<R>[] = [];

  add(method: string, template: string, route: R): void {
    this.entries.push({ method, template, segments: template.split('/').slice(1), route });
  }

  /** The route for this method and path; `template` is also returned when only the method differs. */
  match(method: string, path: string): { hit?: RouteMatch<R>; template?: string } {
    const parts = path.split('/').slice(1);
    let template: string | undefined;
    for (const e of this.entries) {
      const params = matchSegments(e.segments, parts);
      if (!params) continue;
      template ??= e.template;
      if (e.method === method)
        return { hit: { route: e.route, template: e.template, pathParams: params }, template };
    }
    return { template };
  }

  templates(): Array<{ method: string; template: string }> {
    return this.entries.map((e) => ({ method: e.method, template: e.template }));
  }
}

function matchSegments(segments: string[], parts: string[]): Record<string, string> | null {
  if (segments.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!;
    const p = parts[i]!;
    if (s.startsWith('{')) {
      if (p === '') return null;
      try {
        params[s.slice(1, -1)] = decodeURIComponent(p);
      } catch {
        return null;
      }
    } else if (s !== p) return null;
  }
  return params;
}
