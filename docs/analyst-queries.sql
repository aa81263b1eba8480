-- carelink: the Norfolk evaluation's tables, rebuilt from the marts alone.
-- Every query runs on DuckDB and PostgreSQL (tests/warehouse/test_load_night.py runs each one
-- on a generated county). Queries are separated by lines starting `-- name:`.
-- Run one with: .venv/bin/carelink sql "<query>"

-- name: table_8_breakdowns_by_reason
-- Why caring stopped at the 6- and 12-month sustainment checks, with the reason's category
-- from the code list and how often staff typed a different category.
SELECT check_type,
       breakdown_reason_code,
       category,
       COUNT(*) AS carers,
       ROUND(100.0 * COUNT(*) / SUM(COUNT(*)) OVER (PARTITION BY check_type), 1) AS pct,
       SUM(CASE WHEN LOWER(category_as_recorded) <> category THEN 1 ELSE 0 END)
           AS category_disagrees
FROM marts.sustainment
WHERE still_caring = 'No'
GROUP BY check_type, breakdown_reason_code, category
ORDER BY check_type, carers DESC;

-- name: tables_9_10_sustainment_against_star
-- Still caring at each check against the carer's Star readings.
SELECT check_type,
       still_caring,
       COUNT(*) AS checks,
       ROUND(AVG(star_1), 1) AS mean_star_1,
       ROUND(AVG(star_2), 1) AS mean_star_2,
       ROUND(AVG(star_2 - star_1), 1) AS mean_change
FROM marts.sustainment
GROUP BY check_type, still_caring
ORDER BY check_type, still_caring;

-- name: figures_5_6_star_change_distribution
-- Distribution of the change between readings 1 and 2 (Figure 5) and 1 and 3 (Figure 6).
SELECT 'reading 1 to 2' AS comparison, change_1_2 AS change, COUNT(*) AS carers
FROM marts.star_change WHERE change_1_2 IS NOT NULL GROUP BY change_1_2
UNION ALL
SELECT 'reading 1 to 3', change_1_3, COUNT(*)
FROM marts.star_change WHERE change_1_3 IS NOT NULL GROUP BY change_1_3
ORDER BY comparison, change;

-- name: table_11_service_contact_recorded_in_las
-- What LAS assessments say about the carer's contact with the service, against whether the
-- linkage shows the service supports that carer.
SELECT COALESCE(carers_service_contact, '(not recorded)') AS recorded_in_las,
       SUM(CASE WHEN carer_known_to_service THEN 1 ELSE 0 END) AS carer_known_to_service,
       SUM(CASE WHEN carer_known_to_service THEN 0 ELSE 1 END) AS carer_not_known,
       COUNT(*) AS assessments
FROM marts.service_contact_in_las
GROUP BY COALESCE(carers_service_contact, '(not recorded)')
ORDER BY assessments DESC;

-- name: table_12_carer_assessments_by_type
-- LAS assessments of people with a known carer, by type and year.
SELECT assessment_type,
       EXTRACT(YEAR FROM assessment_date) AS year,
       COUNT(*) AS assessments
FROM marts.service_contact_in_las
GROUP BY assessment_type, EXTRACT(YEAR FROM assessment_date)
ORDER BY year, assessment_type;

-- name: tables_14_15_contingency_against_fatigue_and_need
-- Share of care packages with contingency (planned breaks for the carer), by whether the
-- assessor noted carer fatigue and by primary support reason.
SELECT primary_support_reason,
       carer_fatigue_noted,
       COUNT(*) AS packages,
       ROUND(100.0 * SUM(CASE WHEN includes_contingency THEN 1 ELSE 0 END) / COUNT(*), 1)
           AS pct_with_contingency
FROM marts.care_packages
GROUP BY primary_support_reason, carer_fatigue_noted
ORDER BY primary_support_reason, carer_fatigue_noted;

-- name: table_16_package_cost_by_need
-- Annual care package cost by primary support reason.
SELECT primary_support_reason,
       COUNT(*) AS packages,
       ROUND(AVG(annual_cost), 0) AS mean_annual_cost,
       ROUND(MIN(annual_cost), 0) AS min_annual_cost,
       ROUND(MAX(annual_cost), 0) AS max_annual_cost
FROM marts.care_packages
GROUP BY primary_support_reason
ORDER BY mean_annual_cost DESC;

-- name: table_17_package_cost_change
-- How this year's cost compares with last year's: increase, decrease, no change, or new.
SELECT CASE WHEN change_from_previous_year IS NULL THEN 'new package'
            WHEN change_from_previous_year > 0 THEN 'increase'
            WHEN change_from_previous_year < 0 THEN 'decrease'
            ELSE 'no change' END AS cost_change,
       COUNT(*) AS packages,
       ROUND(100.0 * COUNT(*) / SUM(COUNT(*)) OVER (), 1) AS pct
FROM marts.care_packages
GROUP BY 1
ORDER BY packages DESC;

-- name: carers_known_by_source_combination
-- Carers known to each combination of sources on the latest snapshot.
SELECT in_provider, in_las, in_gp, carers
FROM marts.carers_known
WHERE snapshot_date = (SELECT MAX(snapshot_date) FROM marts.carers_known)
ORDER BY carers DESC;
