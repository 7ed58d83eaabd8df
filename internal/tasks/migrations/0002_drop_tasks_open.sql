-- tasks_open (id WHERE status = 'open') cost every write to a task a fourth
-- index entry: assignee_id is indexed, so no reassignment is a HOT update, and
-- a shuffle of 100,000 open tasks spent 0.7 of its 2.2 s maintaining this index
-- alone. What it served reads as well without it: the shuffle updates every
-- open task (a sequential scan), and listings page by id (the primary key) or by
-- assignee (tasks_assignee). See docs/adr/0010-write-path-performance.md.
DROP INDEX IF EXISTS tasks_open;
