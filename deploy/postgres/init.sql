-- a database per service: no service reads another's tables (ARCHITECTURE "A service owns its tables")
CREATE DATABASE staff;
CREATE DATABASE intake;
CREATE DATABASE cases;
CREATE DATABASE complaints;
CREATE DATABASE lending;
CREATE DATABASE notices;
