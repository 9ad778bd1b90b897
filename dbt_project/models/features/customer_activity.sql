-- Per-customer activity relative to the snapshot time (as_of), not the wall clock,
-- so the features are reproducible.
with meta as (
    select as_of from {{ source('raw', 'snapshot_meta') }}
)
select
    e.customer_id,
    count(*) filter (where e.event_at >= meta.as_of - interval 30 day)::bigint as n_events_30d,
    count(*) filter (
        where e.event_type = 'support' and e.event_at >= meta.as_of - interval 90 day
    )::bigint                                                                  as n_support_events_90d,
    max(e.event_at)::timestamp                                                 as last_event_at
from {{ ref('stg_events') }} as e
cross join meta
group by e.customer_id
