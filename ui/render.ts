/**
 * Server-side rendering of one route: the page component wrapped by its layouts (outermost first), rendered
 * with preact-render-to-string. When the HTML contains an island, the bundle's `<script type="module">` is
 * added before `</body>`; a page without islands ships no JavaScript at all.
 * @module
 */
import { type ComponentType, h, type VNode } from "preact";
import { renderToString } from "preact-render-to-string";
import type { LayoutProps, PageProps } from "../routes/_lib/context.ts";

/** Renders `page` inside `layouts` to a complete HTML document. */
export function renderPage(
  page: ComponentType<PageProps>,
  layouts: ComponentType<LayoutProps>[],
  props: PageProps,
  bundlePath: string | null,
): string {
  let node = h(page, props) as VNode<unknown>;
  for (const layout of [...layouts].reverse()) {
    const inner = node;
    node = h(layout, { ...props, Component: () => inner as VNode<LayoutProps> }) as VNode<unknown>;
  }
  let html = renderToString(node);
  if (bundlePath && html.includes("data-island=")) {
    const tag = `<script type="module" src="${bundlePath}"></script>`;
    html = html.includes("</body>") ? html.replace("</body>", `${tag}</body>`) : html + tag;
  }
  return `<!DOCTYPE html>${html}`;
}
