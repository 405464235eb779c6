-- bench_stl_query_rows(n, newest, span): n stl_query rows with Redshift's column types and
-- values shaped like a real cluster's, ending between newest - span and newest.
--   querytxt: 60% short dashboard queries (150-300 chars), 30% ETL statements (1-2 KB),
--             10% long generated SQL truncated at 4000 characters, as Redshift truncates it;
--   label:    'default' or an ETL job's query group; database: dev or analytics;
--   run time: 0.1 s to 10 minutes, a few aborted and concurrency-scaled queries.
-- char(n) columns are blank-padded by PostgreSQL exactly as Redshift sends them.
-- STABLE and a single SELECT, so a view over it is inlined and streams (bench memory).
CREATE FUNCTION bench_stl_query_rows(n bigint, newest timestamp, span interval)
RETURNS TABLE (userid int, query int, label char(320), xid bigint, pid int, database char(32),
               querytxt char(4000), starttime timestamp, endtime timestamp, aborted int,
               insert_pristine int, concurrency_scaling_status int)
LANGUAGE sql STABLE AS $$
  SELECT (100 + i % 57)::int,
         i::int,
         CASE WHEN i % 4 = 0 THEN 'etl_nightly_' || (i % 7) ELSE 'default' END,
         (5000000 + i * 3)::bigint,
         (1073741 + i % 9973)::int,
         CASE WHEN i % 3 = 0 THEN 'analytics' ELSE 'dev' END,
         CASE
           WHEN i % 10 < 6 THEN
             '/* Looker Query Context ''{"user_id":' || (i % 311) || ',"history_slug":"' || left(md5(i::text), 16) ||
             '"}'' */ SELECT region, product_id, sum(amount) AS revenue FROM analytics.sales_' || (i % 37) ||
             ' WHERE sale_date >= ''2024-0' || (i % 9 + 1) || '-01'' AND customer_id = ' || (i * 31 % 100000) ||
             ' GROUP BY 1, 2 ORDER BY 3 DESC LIMIT ' || (i % 500 + 1)
           WHEN i % 10 < 9 THEN
             'INSERT INTO staging.orders_' || (i % 11) || ' (order_id, customer_id, amount, status, created_at) SELECT ' ||
             repeat('coalesce(o.c' || (i % 13) || ', 0) + ', (10 + i % 40)::int) || 'o.order_id, o.customer_id FROM raw.orders_' ||
             md5(i::text) || ' o LEFT JOIN raw.customers_' || md5((i + 1)::text) || ' c USING (customer_id) WHERE o.batch_id = ' || i
           ELSE
             left('WITH ' || repeat('step_' || (i % 17) || ' AS (SELECT f.order_id, SUM(f.amount) AS amount FROM public.fact_' ||
                  md5(i::text) || ' f GROUP BY 1), ', 40) || 'SELECT 1', 4000)
         END,
         newest - span * ((i - 1)::float8 / n) - make_interval(secs => 0.1 + (i * 7919 % 600000) / 1000.0),
         newest - span * ((i - 1)::float8 / n),
         (i % 97 = 0)::int,
         0,
         (i % 20 = 0)::int
  FROM generate_series(1, n) AS i
$$;
