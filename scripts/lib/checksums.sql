-- Row counts and checksums of every table of the database, and of every partition of a
-- partitioned table (events: one per day, and events_default), as one line of JSON.
--
-- Run inside a REPEATABLE READ transaction: scripts/backup.sh runs it in the snapshot pg_dump
-- dumps (SET TRANSACTION SNAPSHOT), scripts/restore.sh on the restored database, and compares.
-- The checksum of a table is sum(hashtextextended(row, 0)) over its rows: independent of row
-- order and of the physical layout. A row's text is built from the columns of the table at the
-- root of its partition tree, by name and in the root's column order, so a partition whose
-- columns lie in another order (created with LIKE, then attached) reads the same after a restore.
-- The settings below fix how timestamps, floats and bytea are written as text.
SET LOCAL timezone = 'UTC';
SET LOCAL datestyle = 'ISO, YMD';
SET LOCAL intervalstyle = 'postgres';
SET LOCAL extra_float_digits = 1;
SET LOCAL bytea_output = 'hex';

WITH leaf AS (
  SELECT c.oid,
         format('%I.%I', n.nspname, c.relname) AS name,
         CASE WHEN c.relispartition THEN pg_partition_root(c.oid) END AS root
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.relkind = 'r'
     AND n.nspname NOT IN ('pg_catalog', 'information_schema')
     AND n.nspname NOT LIKE 'pg\_toast%'
     AND n.nspname NOT LIKE 'pg\_temp%'
),
measured AS (
  SELECT l.name,
         (SELECT format('%I.%I', rn.nspname, rc.relname) FROM pg_class rc JOIN pg_namespace rn ON rn.oid = rc.relnamespace WHERE rc.oid = l.root) AS parent,
         (xpath('/row/n/text()', x))[1]::text::bigint AS rows,
         (xpath('/row/s/text()', x))[1]::text::numeric AS checksum
    FROM leaf l
   CROSS JOIN LATERAL (
     SELECT string_agg(format('t.%I', a.attname), ', ' ORDER BY a.attnum) AS cols
       FROM pg_attribute a
      WHERE a.attrelid = coalesce(l.root, l.oid) AND a.attnum > 0 AND NOT a.attisdropped
   ) c
   CROSS JOIN LATERAL query_to_xml(
     format('SELECT count(*) AS n, coalesce(sum(hashtextextended(ROW(%s)::text, 0)), 0) AS s FROM %s t', c.cols, l.name),
     false, true, '') AS x
),
tables AS (
  SELECT name, rows, checksum, false AS partitioned FROM measured WHERE parent IS NULL
  UNION ALL
  SELECT parent, sum(rows)::bigint, sum(checksum), true FROM measured WHERE parent IS NOT NULL GROUP BY parent
)
SELECT json_build_object(
  'database', current_database(),
  'server', current_setting('server_version'),
  'migrationHead', CASE WHEN to_regclass('public.migrations') IS NOT NULL THEN
    (xpath('/row/name/text()', query_to_xml('SELECT name FROM public.migrations ORDER BY "timestamp" DESC, id DESC LIMIT 1', false, true, '')))[1]::text END,
  'tables', (SELECT coalesce(json_agg(json_build_object('name', name, 'rows', rows, 'checksum', checksum::text, 'partitioned', partitioned) ORDER BY name), '[]') FROM tables),
  'partitions', (SELECT coalesce(json_agg(json_build_object('name', name, 'parent', parent, 'rows', rows, 'checksum', checksum::text) ORDER BY name), '[]') FROM measured WHERE parent IS NOT NULL)
)::text;
