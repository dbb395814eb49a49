-- Sample customer accounts of Lumen Cloud (a SaaS product) for support triage, amounts in USD cents.
-- Built into a read-only SQLite file at first use by runs.engine.tools.datasets.
CREATE TABLE customers (id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, company TEXT, plan TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE invoices (id TEXT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers(id), period TEXT NOT NULL, issued_at TEXT NOT NULL, amount_cents INTEGER NOT NULL, status TEXT NOT NULL);
CREATE TABLE payments (id TEXT PRIMARY KEY, invoice_id TEXT NOT NULL REFERENCES invoices(id), paid_at TEXT NOT NULL, amount_cents INTEGER NOT NULL, method TEXT NOT NULL, outcome TEXT NOT NULL);
CREATE TABLE refunds (id TEXT PRIMARY KEY, payment_id TEXT NOT NULL REFERENCES payments(id), requested_at TEXT NOT NULL, amount_cents INTEGER NOT NULL, status TEXT NOT NULL);
INSERT INTO customers VALUES ('ACC-1001', 'Priya Raman', 'priya@bluefin.example', 'Bluefin Logistics', 'business', 'active', '2024-02-11');
INSERT INTO customers VALUES ('ACC-1017', 'Tom Okafor', 'tom@harborreed.example', 'Harbor & Reed LLP', 'team', 'active', '2024-06-03');
INSERT INTO customers VALUES ('ACC-1042', 'Rosa Martins', 'rosa@maplehealth.example', 'Maple Health Clinics', 'business', 'active', '2025-01-20');
INSERT INTO customers VALUES ('ACC-1058', 'Dmitri Volkov', 'dmitri@orbit.example', 'Orbit Retail Group', 'team', 'past_due', '2025-03-14');
INSERT INTO customers VALUES ('ACC-1063', 'Aiko Tanaka', 'aiko@sable.example', 'Sable Energy', 'enterprise', 'active', '2025-05-02');
INSERT INTO customers VALUES ('ACC-1077', 'Lena Fischer', 'lena@fischer.example', NULL, 'starter', 'cancelled', '2025-07-19');
INSERT INTO invoices VALUES ('INV-9301', 'ACC-1001', '2026-10', '2026-10-01', 49900, 'paid');
INSERT INTO invoices VALUES ('INV-9302', 'ACC-1017', '2026-10', '2026-10-01', 14900, 'paid');
INSERT INTO invoices VALUES ('INV-9303', 'ACC-1042', '2026-10', '2026-10-01', 49900, 'paid');
INSERT INTO invoices VALUES ('INV-9304', 'ACC-1058', '2026-10', '2026-10-01', 14900, 'open');
INSERT INTO invoices VALUES ('INV-9305', 'ACC-1063', '2026-10', '2026-10-01', 240000, 'paid');
INSERT INTO invoices VALUES ('INV-9280', 'ACC-1077', '2026-09', '2026-09-01', 2900, 'paid');
INSERT INTO invoices VALUES ('INV-9401', 'ACC-1042', '2026-11', '2026-11-01', 49900, 'paid');
INSERT INTO payments VALUES ('PAY-61001', 'INV-9301', '2026-10-01', 49900, 'card', 'succeeded');
INSERT INTO payments VALUES ('PAY-61002', 'INV-9302', '2026-10-02', 14900, 'card', 'succeeded');
-- ACC-1042 was charged twice for October: the retry after a gateway timeout also succeeded.
INSERT INTO payments VALUES ('PAY-61003', 'INV-9303', '2026-10-01', 49900, 'card', 'succeeded');
INSERT INTO payments VALUES ('PAY-61004', 'INV-9303', '2026-10-01', 49900, 'card', 'succeeded');
INSERT INTO payments VALUES ('PAY-61005', 'INV-9304', '2026-10-03', 14900, 'card', 'failed');
INSERT INTO payments VALUES ('PAY-61006', 'INV-9304', '2026-10-10', 14900, 'card', 'failed');
INSERT INTO payments VALUES ('PAY-61007', 'INV-9305', '2026-10-05', 240000, 'bank_transfer', 'succeeded');
INSERT INTO payments VALUES ('PAY-60880', 'INV-9280', '2026-09-01', 2900, 'card', 'succeeded');
INSERT INTO payments VALUES ('PAY-62001', 'INV-9401', '2026-11-01', 49900, 'card', 'succeeded');
INSERT INTO refunds VALUES ('REF-301', 'PAY-60880', '2026-09-20', 2900, 'completed');
