-- Seeds random() for this session ($1 in [-1, 1]), so a test's shuffle is repeatable.
SELECT setseed($1)
