-- Reference data every environment needs, once: the site's own author.
INSERT INTO notes_author (id, name, email)
    SELECT 1, 'Admin', 'admin@example.invalid' WHERE NOT EXISTS (SELECT 1 FROM notes_author WHERE id = 1);
