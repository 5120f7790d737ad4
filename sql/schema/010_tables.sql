-- The example site's schema (PostgreSQL and SQLite both read it).
CREATE TABLE author (
    id integer PRIMARY KEY,
    name varchar(100) NOT NULL,
    email varchar(200) NOT NULL,
    CONSTRAINT author_email_key UNIQUE (email)
);

CREATE TABLE post (
    id integer PRIMARY KEY,
    author_id integer NOT NULL,
    title varchar(200) NOT NULL,
    body text,
    published integer NOT NULL DEFAULT 0,
    CONSTRAINT post_published_check CHECK (published IN (0, 1)),
    CONSTRAINT post_author_fk FOREIGN KEY (author_id) REFERENCES author (id) ON DELETE CASCADE
);

CREATE INDEX post_author_idx ON post (author_id);
