select
    lower(trim(plan_id))::varchar       as plan_id,
    monthly_price::double               as monthly_price
from {{ source('raw', 'plans') }}
