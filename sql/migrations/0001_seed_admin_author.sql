INSERT INTO author (id, name, email) SELECT 1, 'Admin', 'admin@example.invalid' WHERE NOT EXISTS (SELECT 1 FROM author WHERE id = 1);
