// The caller's open tasks (the server lists a worker's own tasks only), each with Complete.
import { useState } from "preact/hooks";
import { taskClient } from "../api/clients";
import { TaskStatus, type Task } from "../gen/ates/tasks/v1/task_service_pb";
import { usePaged } from "../hooks/usePaged";
import { ErrorText } from "../components/ErrorText";
import { Pager } from "../components/Pager";
import { TaskTable } from "../components/TaskTable";
import { taskLabel } from "../format";

export function MyTasksPage() {
  const [busyId, setBusyId] = useState("");
  const [actionError, setActionError] = useState<unknown>(null);
  const [done, setDone] = useState("");
  const paged = usePaged(async (pageToken) => {
    const r = await taskClient.listTasks({ status: TaskStatus.OPEN, pageToken, pageSize: 50 });
    return { items: r.tasks, next: r.nextPageToken };
  }, "open");
  async function complete(task: Task) {
    setBusyId(task.id);
    setActionError(null);
    try {
      await taskClient.completeTask({ taskId: task.id });
      setDone(`Completed ${taskLabel(task.title, task.jiraId)}.`);
      paged.reload();
    } catch (err) {
      setActionError(err);
    } finally {
      setBusyId("");
    }
  }
  return (
    <>
      <p class="status" role="status">{done}</p>
      <ErrorText error={actionError ?? paged.error} />
      {!paged.loading && paged.items.length === 0 && !paged.error && <p>No open tasks. Well done.</p>}
      {paged.items.length > 0 && <TaskTable tasks={paged.items} showAssignee={false} onComplete={complete} busyId={busyId} />}
      <Pager paged={paged} label="Tasks" />
    </>
  );
}
