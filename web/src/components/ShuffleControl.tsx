// Shuffle every open task, after a confirmation; shows how many were reassigned.
import { useState } from "preact/hooks";
import { taskClient } from "../api/clients";
import { ConfirmDialog } from "./ConfirmDialog";
import { ErrorText } from "./ErrorText";

export function ShuffleControl({ onShuffled }: { onShuffled: () => void }) {
  const [asking, setAsking] = useState(false);
  const [result, setResult] = useState("");
  const [error, setError] = useState<unknown>(null);
  async function shuffle() {
    setAsking(false);
    try {
      const r = await taskClient.shuffleTasks({});
      setError(null);
      setResult(`Reassigned ${r.reassignedCount} open task${r.reassignedCount === 1n ? "" : "s"}.`);
      onShuffled();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <div class="shuffle">
      <button type="button" onClick={() => setAsking(true)}>Shuffle open tasks…</button>
      <p class="status" role="status" data-testid="shuffle-result">{result}</p>
      <ErrorText error={error} />
      <ConfirmDialog open={asking} title="Shuffle every open task?" confirmLabel="Shuffle"
        onConfirm={shuffle} onCancel={() => setAsking(false)}>
        <p>Each open task gets a new random assignee, who is charged the task's fee.</p>
      </ConfirmDialog>
    </div>
  );
}
