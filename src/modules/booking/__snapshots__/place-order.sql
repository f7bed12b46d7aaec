with lockable_seats as (select seat_id from schedule_seats
            where schedule_id = $1::uuid and seat_id = any($2::uuid[])
              and (status = 'AVAILABLE' or (status = 'RESERVED' and reserved_until <= $3::timestamptz))
              and exists (select 1 from schedules s where s.id = $1::uuid and s.deleted_at is null)
            order by seat_id
            for update),
     lockable_coupons as (select id from coupons
            where id = any($5::uuid[]) and user_id = $4::uuid and status = 'AVAILABLE' and reserved_order_id is null
            order by id
            for update),
     pending_seats_of_buyer as (
       select count(*) as n from order_items oi join orders o on o.id = oi.order_id
       where o.user_id = $4::uuid and o.schedule_id = $1::uuid and o.status = 'PENDING_PAYMENT' and o.expires_at > $3::timestamptz),
     checks as (select true as seats, (not $19::boolean
             or not exists (select 1 from coupons where user_id = $4::uuid and status = 'AVAILABLE' and reserved_order_id is null)) as coupons,
                       (select n from pending_seats_of_buyer) + cardinality($2::uuid[]) <= $21::int as within_limit),
     go as (select (select count(*) from lockable_seats) = cardinality($2::uuid[])
               and (select count(*) from lockable_coupons) = cardinality($5::uuid[])
               and (select seats and coupons and within_limit from checks) as ok),
     reserved_seats as (update schedule_seats set status = 'RESERVED', order_id = $6::uuid, reserved_until = $7::timestamptz
            where schedule_id = $1::uuid and seat_id in (select seat_id from lockable_seats) and (select ok from go)),
     reserved_coupons as (update coupons set reserved_order_id = $6::uuid where id in (select id from lockable_coupons) and (select ok from go)),
     new_order as (
       insert into orders (id, user_id, schedule_id, status, subtotal, discount, amount, order_name, expires_at, created_at, updated_at, idempotency_key)
       select $6::uuid, $4::uuid, $1::uuid, 'PENDING_PAYMENT', $8::int, $9::int, $10::int, $11::text, $7::timestamptz, $3::timestamptz, $3::timestamptz, $20::text
       where (select ok from go)
       returning id),
     new_items as (
       insert into order_items (order_id, seat_id, label, grade, price, discount)
       select new_order.id, u.seat_id, u.label, u.grade, u.price, u.discount
       from new_order, unnest($2::uuid[], $12::text[], $13::text[], $14::int[], $15::int[]) as u(seat_id, label, grade, price, discount)),
     new_coupons as (
       insert into order_coupons (order_id, coupon_id, name, seat_id, discount)
       select new_order.id, u.coupon_id, u.name, u.seat_id, u.discount
       from new_order, unnest($5::uuid[], $16::text[], $17::uuid[], $18::int[]) as u(coupon_id, name, seat_id, discount)),
     order_created as (insert into outbox (id, type, aggregate_id, occurred_at, version, payload)
       select $22::uuid, 'order.created', $6::uuid, $3::timestamptz, 1, jsonb_build_object('orderId', $6::uuid, 'userId', $4::uuid, 'scheduleId', $1::uuid,
                'seatIds', to_jsonb($2::uuid[]), 'couponIds', to_jsonb($5::uuid[]),
                'subtotal', $8::int, 'discount', $9::int, 'amount', $10::int, 'orderName', $11::text,
                'expiresAt', to_char($7::timestamptz at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
       where (select ok from go))
select (select ok from go) as placed,
       array(select seat_id from lockable_seats) as free_seats,
       array(select id from lockable_coupons) as free_coupons,
       (select coupons from checks) as coupons_check,
       (select within_limit from checks) as within_limit
