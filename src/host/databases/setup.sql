\set ON_ERROR_STOP on
\getenv db DATABASE
\getenv app_role APP_ROLE
\getenv app_password APP_PASSWORD
\getenv analyst_role ANALYST_ROLE
\getenv analyst_password ANALYST_PASSWORD
SELECT format('CREATE ROLE %I', :'app_role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_role') \gexec
SELECT format('CREATE ROLE %I', :'analyst_role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'analyst_role') \gexec
ALTER ROLE :"app_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'app_password';
ALTER ROLE :"analyst_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD :'analyst_password';
ALTER ROLE :"analyst_role" SET default_transaction_read_only = on;
-- Seed 004: UTF8 from template0, whatever the server's default encoding.
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L LC_COLLATE %L LC_CTYPE %L TEMPLATE template0', :'db', :'app_role', 'UTF8', 'C.UTF-8', 'C.UTF-8')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"analyst_role";
-- The study's roles reach no other database.
REVOKE CONNECT, TEMPORARY ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE template1 FROM PUBLIC;
\connect :"db"
ALTER SCHEMA public OWNER TO :"app_role";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"analyst_role";
GRANT SELECT ON ALL TABLES IN SCHEMA public TO :"analyst_role";
GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO :"analyst_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"app_role" IN SCHEMA public GRANT SELECT ON TABLES TO :"analyst_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"app_role" IN SCHEMA public GRANT SELECT ON SEQUENCES TO :"analyst_role";
