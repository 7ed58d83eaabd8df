import type { Paged } from "../hooks/usePaged";

export function Pager<T>({ paged, label }: { paged: Paged<T>; label: string }) {
  if (!paged.hasPrev && !paged.hasNext) return null;
  return (
    <nav class="pager" aria-label={`${label} pages`}>
      <button type="button" onClick={paged.prev} disabled={!paged.hasPrev}>
        Previous page
      </button>
      <span>Page {paged.pageNumber}</span>
      <button type="button" onClick={paged.next} disabled={!paged.hasNext}>
        Next page
      </button>
    </nav>
  );
}
