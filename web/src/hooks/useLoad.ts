// One call's result for a component, reloaded when `key` changes or on reload().
import { useEffect, useState } from "preact/hooks";

// How many loads are in flight, mirrored on <html data-loading> so that a
// person's assistive tech and the browser tests can tell a page has settled.
let inFlight = 0;
function track(delta: number): void {
  inFlight += delta;
  if (inFlight > 0) document.documentElement.dataset.loading = String(inFlight);
  else delete document.documentElement.dataset.loading;
}

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    track(1);
    load()
      .then(
        (value) => live && (setData(value), setError(null), setLoading(false)),
        (err) => live && (setError(err), setLoading(false)),
      )
      .finally(() => track(-1));
    return () => {
      live = false;
    };
  }, [key, generation]);
  return { data, error, loading, reload: () => setGeneration((g) => g + 1) };
}
