-- Light cleaning only: trimmed/normalised strings, explicit types. No rows are dropped.
select
    customer_id::bigint                 as customer_id,
    upper(trim(country))::varchar       as country,
    age::integer                        as age,
    income::double                      as income,
    lower(trim(email))::varchar         as email,
    lower(trim(plan_id))::varchar       as plan_id,
    signed_up_at::timestamp             as signed_up_at
from {{ source('raw', 'customers') }}
