// The page's route lives in the URL fragment (#/tasks), so reloads and the
// back button work without any server-side routing.
import { useEffect, useState } from "preact/hooks";

function read(): string {
  return window.location.hash.replace(/^#\/?/, "");
}

export function useHashPath(): string {
  const [path, setPath] = useState(read());
  useEffect(() => {
    const onChange = () => setPath(read());
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return path;
}
