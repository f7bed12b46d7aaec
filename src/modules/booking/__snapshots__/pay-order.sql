with paying_order as (select status from orders where id = $1::uuid for update),
     lockable_seats as (select seat_id from schedule_seats
            where schedule_id = $3::uuid and seat_id = any($4::uuid[])
              and (status = 'AVAILABLE' or order_id = $1::uuid)
              and exists (select 1 from schedules s where s.id = $3::uuid and s.deleted_at is null for share)
            order by seat_id
            for update),
     own_locked as (select id from payments where order_id = $1::uuid for update),
     go as (select coalesce((select status = 'PENDING_PAYMENT' from paying_order), false)
               and (select count(*) from lockable_seats) = cardinality($4::uuid[])
               and (select count(*) = cardinality($4::uuid[]) and count(*) filter (where seat_id = any($4::uuid[])) = count(*)
                    from order_items where order_id = $1::uuid)
               and exists (select 1 from own_locked)
               and exists (select p.seller_id, p.id as performance_id, p.title as performance_title
             from schedules s join performances p on p.id = s.performance_id where s.id = $3::uuid) as ok),
     sold_seats as (update schedule_seats set status = 'SOLD', order_id = $1::uuid, reserved_until = null
            where schedule_id = $3::uuid and seat_id in (select seat_id from lockable_seats) and (select ok from go)),
     new_tickets as (
       insert into tickets (id, order_id, user_id, schedule_id, seat_id, seat_label, code, status, created_at)
       select u.id, $1::uuid, $2::uuid, $3::uuid, u.seat_id, u.seat_label, u.code, 'VALID', $5::timestamptz
       from unnest($6::uuid[], $7::uuid[], $8::text[], $9::text[]) as u(id, seat_id, seat_label, code)
       where (select ok from go)),
     used_coupons as (update coupons set status = 'USED', used_order_id = $1::uuid where reserved_order_id = $1::uuid and status = 'AVAILABLE' and (select ok from go)),
     paid_order as (update orders set status = 'PAID', paid_at = $5::timestamptz, updated_at = $5::timestamptz where id = $1::uuid and (select ok from go)),
     own_write_0 as (update payments set status = 'DONE', payment_key = $10::text, method = $11::text, approved_at = $12::timestamptz,
              pg_code = null, pg_message = null, updated_at = $5::timestamptz
       where id in (select id from own_locked) and (select ok from go)),
     own_write_1 as (insert into outbox (id, type, aggregate_id, occurred_at, version, payload)
       select $13::uuid, 'payment.completed', $1::uuid, $5::timestamptz, 2,
              $14::jsonb || jsonb_build_object('sellerId', f.seller_id, 'performanceId', f.performance_id, 'performanceTitle', f.performance_title,
                                           'sellerDiscount', d.seller_funded, 'platformDiscount', $17::int - d.seller_funded)
       from (select p.seller_id, p.id as performance_id, p.title as performance_title
             from schedules s join performances p on p.id = s.performance_id where s.id = $3::uuid) as f cross join (select coalesce(sum(a.discount) filter (where cc.funded_by = 'SELLER'), 0)::int as seller_funded
             from unnest($15::uuid[], $16::int[]) as a(coupon_id, discount)
             join coupons c on c.id = a.coupon_id join coupon_campaigns cc on cc.id = c.campaign_id) as d
       where (select ok from go))
select (select ok from go) as paid, (select status from paying_order) as status, (select count(*) from lockable_seats) as seats,
       exists (select 1 from own_locked) as own_locked
