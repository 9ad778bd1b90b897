-- One row per customer: features as of snapshot_at, label churned.
-- LEFT JOINs keep every customer; the plans join is where a duplicated plan row fans out.
with meta as (
    select as_of from {{ source('raw', 'snapshot_meta') }}
),

joined as (
    select
        c.customer_id,
        c.country,
        c.age,
        c.income,
        c.email,
        c.plan_id,
        p.monthly_price,
        c.signed_up_at,
        o.first_order_at,
        coalesce(o.n_orders, 0)::bigint             as n_orders,
        coalesce(o.total_spend, 0)::double          as total_spend,
        coalesce(a.n_events_30d, 0)::bigint         as n_events_30d,
        coalesce(a.n_support_events_90d, 0)::bigint as n_support_events_90d,
        meta.as_of::timestamp                       as snapshot_at
    from {{ ref('stg_customers') }} as c
    left join {{ ref('stg_plans') }} as p on c.plan_id = p.plan_id
    left join {{ ref('customer_orders') }} as o on c.customer_id = o.customer_id
    left join {{ ref('customer_activity') }} as a on c.customer_id = a.customer_id
    cross join meta
)

select
    *,
    -- Deterministic label: a logistic score of the features plus hash noise.
    (
        1.0 / (1.0 + exp(-(
            -0.9
            - 0.45 * n_orders
            - 0.25 * n_events_30d
            + 0.9 * n_support_events_90d
            + case when coalesce(monthly_price, 0) <= 9 then 0.4 else 0.0 end
        )))
        > (hash(customer_id, 'churn') % 1000000)::double / 1000000.0
    )::boolean as churned
from joined
