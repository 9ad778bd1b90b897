select
    order_id::bigint                    as order_id,
    customer_id::bigint                 as customer_id,
    ordered_at::timestamp               as ordered_at,
    amount::double                      as amount
from {{ source('raw', 'orders') }}
