import type { Task } from "../gen/ates/tasks/v1/task_service_pb";
import { TaskStatus } from "../gen/ates/tasks/v1/task_service_pb";
import { kStatusNames, person, taskLabel } from "../format";

interface Props {
  tasks: Task[];
  showAssignee: boolean;
  onComplete?: (task: Task) => void;
  busyId?: string;
}

export function TaskTable({ tasks, showAssignee, onComplete, busyId }: Props) {
  return (
    <table class="tasks">
      <thead>
        <tr>
          <th scope="col">Task</th>
          <th scope="col">Status</th>
          {showAssignee && <th scope="col">Assignee</th>}
          {onComplete && <th scope="col"><span class="visually-hidden">Action</span></th>}
        </tr>
      </thead>
      <tbody>
        {tasks.map((t) => (
          <tr key={t.id} data-task-id={t.id} data-jira-id={t.jiraId}>
            <td>
              <span class="task-title">{taskLabel(t.title, t.jiraId)}</span>
              {t.description && <span class="task-description">{t.description}</span>}
            </td>
            <td>{kStatusNames[t.status]}</td>
            {showAssignee && <td>{person(t.assigneeLogin, t.assigneeName)}</td>}
            {onComplete && (
              <td>
                {t.status === TaskStatus.OPEN && (
                  <button type="button" onClick={() => onComplete(t)} disabled={busyId === t.id}
                    aria-label={`Complete ${taskLabel(t.title, t.jiraId)}`}>
                    Complete
                  </button>
                )}
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
