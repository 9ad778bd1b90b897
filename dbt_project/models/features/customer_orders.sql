-- Per-customer order aggregates (only customers that ordered at least once).
select
    customer_id,
    count(*)::bigint                    as n_orders,
    round(sum(amount), 2)::double       as total_spend,
    min(ordered_at)::timestamp          as first_order_at,
    max(ordered_at)::timestamp          as last_order_at
from {{ ref('stg_orders') }}
group by customer_id
