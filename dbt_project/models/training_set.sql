-- One row per customer: features as of snapshot_at, label churned (from raw.labels).
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
        meta.as_of::timestamp                       as snapshot_at,
        coalesce(f.retention_offer, false)::boolean as retention_offer,
        -- when the newest feature input was observed; must not be after the label time
        greatest(c.signed_up_at, o.last_order_at, a.last_event_at)::timestamp as feature_ts,
        l.label_ts::timestamp                       as label_ts,
        l.churned::boolean                          as churned
    from {{ ref('stg_customers') }} as c
    left join {{ ref('stg_plans') }} as p on c.plan_id = p.plan_id
    left join {{ ref('customer_orders') }} as o on c.customer_id = o.customer_id
    left join {{ ref('customer_activity') }} as a on c.customer_id = a.customer_id
    left join {{ source('raw', 'labels') }} as l on c.customer_id = l.customer_id
    left join {{ source('raw', 'crm_flags') }} as f on c.customer_id = f.customer_id
    cross join meta
)

select * from joined
