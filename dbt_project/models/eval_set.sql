-- Customers held out to evaluate the churn model: no training_set row may share a customer_id.
select customer_id::bigint as customer_id
from {{ source('raw', 'eval_customers') }}
