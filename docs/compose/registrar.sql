-- Run once by the db service on an empty volume (docker-compose.yml): the
-- registrar's role, which reads kamailio.subscriber and nothing else
-- (docs/kamailio.md). The schema is made here so that the view voxport's
-- migration creates in it is readable by the role from the start.
CREATE ROLE kamailio LOGIN PASSWORD 'kamailio';
ALTER ROLE kamailio SET search_path = kamailio;
CREATE SCHEMA kamailio AUTHORIZATION voxport;
GRANT USAGE ON SCHEMA kamailio TO kamailio;
ALTER DEFAULT PRIVILEGES FOR ROLE voxport IN SCHEMA kamailio GRANT SELECT ON TABLES TO kamailio;
