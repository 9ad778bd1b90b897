select
    event_id::bigint                    as event_id,
    customer_id::bigint                 as customer_id,
    event_at::timestamp                 as event_at,
    lower(trim(event_type))::varchar    as event_type
from {{ source('raw', 'events') }}
