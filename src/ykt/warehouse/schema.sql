-- The warehouse: the single source of truth. Every output is a view of these tables.
-- Amounts are DECIMAL(18,2), never binary floats. Dates are DATE. Periods are text:
-- 'YYYY-MM' (monthly, once), 'YYYY-Qn' (quarterly), 'YYYY' (annual).

create table if not exists files (
    file_hash       varchar primary key,   -- sha256 of the bytes: the same file twice is loaded once
    kind            varchar not null,      -- roster | payments | deaths | public_employees
    original_name   varchar not null,
    archived_path   varchar not null,
    received_at     timestamp not null,
    uploaded_by     varchar,
    run_id          varchar not null,      -- the run that first saw it
    status          varchar not null,      -- loaded | rejected
    reason_code     varchar,
    reason          varchar,
    rows_read       integer not null,
    rows_loaded     integer not null,
    rows_rejected   integer not null,
    program_code    varchar,
    period          varchar,
    control_total   decimal(18, 2),        -- the file's own 合计 row, when it has one
    detail_total    decimal(18, 2)         -- the sum of the data rows read
);

-- Every file seen by a run, including duplicates: run.json is built from it.
create table if not exists run_files (
    run_id          varchar not null,
    file_hash       varchar not null,
    original_name   varchar not null,
    kind            varchar not null,
    status          varchar not null,      -- loaded | duplicate | rejected
    rows_read       integer not null,
    rows_loaded     integer not null,
    rows_rejected   integer not null,
    reason          varchar
);
-- Added later: statements that also bring an existing warehouse up to date.
-- Why a file was not loaded (ykt.reasons.FILE_REASONS; null when loaded or a duplicate).
alter table run_files add column if not exists reason_code varchar;
-- What reading the file inferred rather than read (Chinese sentences shown to the clerk).
alter table run_files add column if not exists inferences varchar[];

create table if not exists rejects (
    file_hash       varchar not null,
    file_name       varchar not null,
    sheet           varchar,
    "row"           integer,               -- as numbered in the spreadsheet (1-based)
    "column"        varchar,               -- the file's own header text
    value_masked    varchar,
    reason_code     varchar not null,
    reason          varchar not null
);

create table if not exists entitlements (
    file_hash       varchar not null,
    sheet           varchar,
    source_row      integer not null,
    id_number       varchar not null,
    program_code    varchar not null,
    period          varchar not null,
    name            varchar not null,
    head_name       varchar,
    head_id         varchar,
    payee_name      varchar,               -- registered payee / guardian (收款人/监护人)
    payee_id        varchar,
    card_number     varchar,
    bank            varchar,
    township        varchar,
    village         varchar,
    group_name      varchar,
    amount_due      decimal(18, 2) not null,
    approval_date   date,
    due_date        date not null,
    warnings        varchar,               -- '; '-joined warning codes, kept not rejected
    superseded_by   varchar,               -- file_hash of a corrected roster that replaced this row
    -- row hashes, computed at load (warehouse.py: ROW_HASHES)
    key_hash        ubigint,
    id_hash         ubigint,
    ordinary_fingerprint ubigint,
    card_hash       ubigint
);

create table if not exists payments (
    file_hash       varchar not null,
    sheet           varchar,
    source_row      integer not null,
    id_number       varchar not null,
    program_code    varchar not null,
    period          varchar not null,
    name            varchar,
    payee_name      varchar,               -- account holder as the bank has it (户名/收款人)
    card_number     varchar,
    bank            varchar,
    township        varchar,
    village         varchar,
    group_name      varchar,
    amount          decimal(18, 2) not null,
    pay_date        date,
    status          varchar not null,      -- success | failure | returned | stopped
    failure_reason  varchar,
    warnings        varchar,
    -- row hashes, computed at load (warehouse.py: ROW_HASHES)
    key_hash        ubigint,
    person_program  ubigint,
    id_hash         ubigint,
    program_hash    ubigint,
    tier_hash       ubigint,
    ordinary_fingerprint ubigint,
    card_hash       ubigint
);

-- Facts about the warehouse itself (e.g. which hash function computed the stored row hashes).
create table if not exists warehouse_meta (
    key             varchar primary key,
    value           varchar not null
);

create table if not exists deaths (
    file_hash       varchar not null,
    source_row      integer not null,
    id_number       varchar not null,
    name            varchar,
    death_date      date not null
);

create table if not exists public_employees (
    file_hash       varchar not null,
    source_row      integer not null,
    id_number       varchar not null,
    name            varchar,
    employer        varchar
);

create table if not exists supersessions (
    run_id          varchar not null,
    new_file_hash   varchar not null,
    old_file_hash   varchar not null,
    program_code    varchar not null,
    period          varchar not null,
    township        varchar,
    rows_superseded integer not null,
    logged_at       timestamp not null
);

create table if not exists runs (
    run_id          varchar primary key,
    as_of           date not null,
    started_at      timestamp not null,
    finished_at     timestamp,
    summary         json
);
-- The county (6-digit division code, counties.yaml) whose night this was; null for a night run without
-- counties.yaml. A warehouse belongs to one county: a night of another county is refused (ykt.pipeline).
alter table runs add column if not exists county_code varchar;

-- Findings of the latest run for each as_of date; rewritten by every run. Stored uncompressed:
-- the night's commit writes them all again (~130k rows at 10M entitlements), and compressing
-- them took over half of that commit (0.25 -> 0.10 s); they are a few tens of MB at most.
create table if not exists findings (
    as_of           date not null using compression uncompressed,
    rule            varchar not null using compression uncompressed,
    route           varchar not null using compression uncompressed,      -- complaint | clue | record
    case_id         varchar using compression uncompressed,               -- null for record-only rules (PAID_LATE)
    program_code    varchar using compression uncompressed,
    period          varchar using compression uncompressed,
    id_number       varchar using compression uncompressed,
    name            varchar using compression uncompressed,
    card_number     varchar using compression uncompressed,
    township        varchar using compression uncompressed,
    village         varchar using compression uncompressed,
    group_name      varchar using compression uncompressed,
    amount_due      decimal(18, 2) using compression uncompressed,
    amount_paid     decimal(18, 2) using compression uncompressed,
    due_date        date using compression uncompressed,
    paid_date       date using compression uncompressed,
    days_overdue    integer using compression uncompressed,
    detail          varchar using compression uncompressed
);

create table if not exists cases (
    case_id         varchar primary key,   -- stable: derived from rule, program, key and period
    rule            varchar not null,
    route           varchar not null,      -- complaint | clue
    program_code    varchar,
    period          varchar,
    case_key        varchar not null,      -- id_number, card_number or township/village/group
    township        varchar,
    village         varchar,
    group_name      varchar,
    persons         integer not null,
    amount          decimal(18, 2),
    department      varchar,
    supervisor      varchar,
    opened_on       date not null,
    deadline        date not null,
    status          varchar not null,      -- open | escalated | resolved
    escalated_on    date,
    resolved_on     date,
    reopened_count  integer not null default 0,
    last_seen_on    date not null,
    summary         varchar,
    program_name    varchar,               -- canonical name from programs.yaml (cases.jsonl `program_name`)
    reopened_on     date,                  -- latest reopening; the deadline counts from it
    days_to_resolve integer                -- resolved_on - (reopened_on or opened_on)
);

create table if not exists case_events (
    case_id         varchar not null,
    event           varchar not null,      -- opened | escalated | resolved | reopened
    on_date         date not null,
    run_id          varchar not null,
    status_after    varchar not null,
    detail          varchar,
    days_to_resolve integer                -- resolved events only: days from (re)opening to resolution
);

create table if not exists outbox (
    idempotency_key varchar primary key,   -- case_id + ':' + status + ':' + event date
    case_id         varchar not null,
    status          varchar not null,
    payload         json not null,
    created_at      timestamp not null,
    attempts        integer not null default 0,
    last_error      varchar,
    delivered_at    timestamp,
    on_date         date,                  -- the event date in the idempotency key
    http_status     integer,               -- the platform's last answer
    last_attempt_at timestamp,
    rejected_at     timestamp              -- permanent failure (4xx): not retried until a person clears it
);
