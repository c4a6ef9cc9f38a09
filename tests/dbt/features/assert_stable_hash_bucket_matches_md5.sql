-- Macro stable_hash_bucket (the grid offset of every lead) is exactly the
-- first 8 hex digits of md5 read as an unsigned integer, mod the buckets: the
-- expected values were computed outside SQL with
-- int(hashlib.md5(s.encode()).hexdigest()[:8], 16) % buckets, including
-- values above 2^31 (a signed 32-bit read would go wrong), an empty string and
-- a non-ASCII one (UTF-8 bytes). Returns the cases that differ.

with

cases as (

    select
        cases.input_value,
        cases.buckets,
        cases.expected_bucket

    from (
        values
        ('abc', 7, 2),
        ('L000001', 7, 6),
        ('lead-42', 7, 0),
        ('', 7, 4),
        ('é', 7, 3),
        ('zz', 7, 3),
        ('L0099999', 7, 6),
        ('abc', 5, 2),
        ('L000001', 5, 3),
        ('L0099999', 5, 0),
        ('abc', 1, 0)
    ) as cases (input_value, buckets, expected_bucket)

),

computed as (

    select
        *,
        case buckets
            when 7 then {{ stable_hash_bucket('input_value', 7) }}
            when 5 then {{ stable_hash_bucket('input_value', 5) }}
            when 1 then {{ stable_hash_bucket('input_value', 1) }}
        end as computed_bucket

    from cases

),

validation_errors as (

    select * from computed
    where computed_bucket is null or computed_bucket <> expected_bucket

)

select * from validation_errors
