/**
 * The owner link `/claim#<slug>.<token>`: the token rides in the fragment, which browsers never
 * send to a server. Right after creating a project, the link is handed to the project page once
 * through sessionStorage (this tab only), shown there until the owner says it is saved.
 */
const FRESH_KEY = 'cotrain.freshOwnerLink.';

export function ownerLinkUrl(origin: string, slug: string, token: string): string {
  return `${origin}/claim#${encodeURIComponent(slug)}.${encodeURIComponent(token)}`;
}

/** Splits a claim fragment (`#slug.token` without the `#`); null when a part is missing. */
export function parseClaimFragment(fragment: string): { slug: string; token: string } | null {
  let text: string;
  try {
    text = decodeURIComponent(fragment.replace(/^#/, ''));
  } catch {
    return null;
  }
  const dot = text.indexOf('.');
  const slug = dot > 0 ? text.slice(0, dot) : '';
  const token = dot > 0 ? text.slice(dot + 1) : '';
  return slug && token ? { slug, token } : null;
}

/** Keeps a new project's owner token for the project page to show once. */
export function stashFreshOwnerToken(slug: string, token: string): void {
  try {
    sessionStorage.setItem(FRESH_KEY + slug, token);
  } catch {
    // storage unavailable: the owner can still make a new link from the project page
  }
}

/** The stashed owner token of a project just created in this tab (kept until cleared). */
export function freshOwnerToken(slug: string): string | null {
  try {
    return sessionStorage.getItem(FRESH_KEY + slug);
  } catch {
    return null;
  }
}

/** Forgets the stashed token once the owner said they saved the link (or made a new one). */
export function clearFreshOwnerToken(slug: string): void {
  try {
    sessionStorage.removeItem(FRESH_KEY + slug);
  } catch {
    // nothing to clear
  }
}
