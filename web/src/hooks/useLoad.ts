// One call's result for a component, reloaded when `key` changes or on reload().
import { useEffect, useState } from "preact/hooks";

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
    load().then(
      (value) => live && (setData(value), setError(null), setLoading(false)),
      (err) => live && (setError(err), setLoading(false)),
    );
    return () => {
      live = false;
    };
  }, [key, generation]);
  return { data, error, loading, reload: () => setGeneration((g) => g + 1) };
}
