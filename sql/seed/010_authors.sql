INSERT INTO author (id, name, email) VALUES (1, 'Ada', 'ada@example.invalid');
INSERT INTO author (id, name, email) VALUES (2, 'Grace', 'grace@example.invalid');
