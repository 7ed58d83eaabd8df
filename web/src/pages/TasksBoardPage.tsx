// Every task (admin, manager) with status and assignee filters, creation and shuffle.
import { useRef, useState } from "preact/hooks";
import { taskClient } from "../api/clients";
import { TaskStatus, type Task } from "../gen/ates/tasks/v1/task_service_pb";
import { usePaged } from "../hooks/usePaged";
import { CreateTaskForm } from "../components/CreateTaskForm";
import { ShuffleControl } from "../components/ShuffleControl";
import { TaskTable } from "../components/TaskTable";
import { ErrorText } from "../components/ErrorText";
import { Field } from "../components/Field";
import { Pager } from "../components/Pager";
import { person } from "../format";

/** Assignees seen in any listing so far, for the filter (managers cannot list accounts). */
function useKnownAssignees(tasks: Task[]): [string, string][] {
  const known = useRef(new Map<string, string>());
  for (const t of tasks) if (t.assigneeLogin) known.current.set(t.assigneeId, person(t.assigneeLogin, t.assigneeName));
  return [...known.current.entries()].sort((a, b) => a[1].localeCompare(b[1]));
}

export function TasksBoardPage() {
  const [status, setStatus] = useState(TaskStatus.UNSPECIFIED);
  const [assigneeId, setAssigneeId] = useState("");
  const [generation, setGeneration] = useState(0);
  const paged = usePaged(async (pageToken) => {
    const r = await taskClient.listTasks({ status, assigneeId, pageToken, pageSize: 50 });
    return { items: r.tasks, next: r.nextPageToken };
  }, `${status}/${assigneeId}/${generation}`);
  const assignees = useKnownAssignees(paged.items);
  const refresh = () => setGeneration((g) => g + 1);
  return (
    <>
      <div class="columns">
        <CreateTaskForm onCreated={refresh} />
        <ShuffleControl onShuffled={refresh} />
      </div>
      <fieldset class="inline filters">
        <legend>Filters</legend>
        <Field label="Status">
          {(id) => (
            <select id={id} value={String(status)} onChange={(e) => setStatus(Number(e.currentTarget.value) as TaskStatus)}>
              <option value={String(TaskStatus.UNSPECIFIED)}>any</option>
              <option value={String(TaskStatus.OPEN)}>open</option>
              <option value={String(TaskStatus.COMPLETED)}>completed</option>
            </select>
          )}
        </Field>
        <Field label="Assignee">
          {(id) => (
            <select id={id} value={assigneeId} onChange={(e) => setAssigneeId(e.currentTarget.value)}>
              <option value="">anyone</option>
              {assignees.map(([aid, name]) => <option key={aid} value={aid}>{name}</option>)}
            </select>
          )}
        </Field>
      </fieldset>
      <ErrorText error={paged.error} />
      {!paged.loading && paged.items.length === 0 && !paged.error && <p>No tasks match.</p>}
      {paged.items.length > 0 && <TaskTable tasks={paged.items} showAssignee />}
      <Pager paged={paged} label="Tasks" />
    </>
  );
}
