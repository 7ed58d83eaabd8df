// A list read page by page with the server's next_page_token. The tokens are
// bound to the filter they were issued for, so a new filter starts again at
// the first page (the visited tokens are kept per filter key).
import { useState } from "preact/hooks";
import { useLoad } from "./useLoad";

export interface Page<T> {
  items: T[];
  next: string;
}

export interface Paged<T> {
  items: T[];
  error: unknown;
  loading: boolean;
  pageNumber: number;
  hasNext: boolean;
  hasPrev: boolean;
  next: () => void;
  prev: () => void;
  reload: () => void;
}

export function usePaged<T>(fetchPage: (token: string) => Promise<Page<T>>, filterKey: string): Paged<T> {
  const [visited, setVisited] = useState({ key: filterKey, tokens: [""] });
  const tokens = visited.key === filterKey ? visited.tokens : [""];
  const token = tokens[tokens.length - 1];
  const page = useLoad(() => fetchPage(token), `${filterKey}\u0000${token}`);
  const nextToken = page.data?.next ?? "";
  return {
    items: page.data?.items ?? [],
    error: page.error,
    loading: page.loading,
    pageNumber: tokens.length,
    hasNext: nextToken !== "",
    hasPrev: tokens.length > 1,
    next: () => nextToken && setVisited({ key: filterKey, tokens: [...tokens, nextToken] }),
    prev: () => setVisited({ key: filterKey, tokens: tokens.slice(0, -1) }),
    reload: page.reload,
  };
}
