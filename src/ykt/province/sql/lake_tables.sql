-- The province lake: what each county exports after its night (Parquet, Hive-partitioned by county and,
-- for entitlements and payments, program and period). These empty tables stand in for a table no county
-- has rows of yet, so the province rules always bind; a view over the files replaces each one that has.
create table entitlements (
    id_number varchar,
    name varchar,
    township varchar,
    village varchar,
    amount_due decimal(18, 2),
    due_date date,
    county varchar,
    program varchar,
    period varchar
);

create table payments (
    id_number varchar,
    name varchar,
    township varchar,
    village varchar,
    amount decimal(18, 2),
    pay_date date,
    status varchar,
    county varchar,
    program varchar,
    period varchar
);

create table cases (
    case_id varchar,
    rule varchar,
    route varchar,
    program_code varchar,
    period varchar,
    status varchar,
    persons integer,
    amount decimal(18, 2),
    department varchar,
    opened_on date,
    county varchar
);

create table public_employees (
    id_number varchar,
    name varchar,
    employer varchar,
    county varchar
);

create table deaths (
    id_number varchar,
    name varchar,
    death_date date,
    county varchar
);
