-- Test data for `invoke db.bounce-test` (the test database only).
INSERT INTO notes_author (id, name, email) VALUES (1, 'Ada', 'ada@example.invalid');
INSERT INTO notes_author (id, name, email) VALUES (2, 'Grace', 'grace@example.invalid');
