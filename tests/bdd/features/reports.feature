Feature: Reports answer the analyst's next question
  As a marketing analyst
  I want one report that groups the conversions by what I choose, per period
  So that I can answer questions the fixed endpoints do not

  Background:
    Given I am signed in as an analyst of "acme"
    And "acme" has these measurements:
      | product | campaign_type | campaign    | channel | date       | conversions |
      | cola    | performance   | summer sale | tv      | 2021-07-05 | 100         |
      | cola    | performance   | summer sale | radio   | 2021-08-02 | 50          |
      | juice   | branding      | brand love  | tv      | 2021-07-20 | 30          |
      | juice   | branding      | brand love  | tv      | 2021-10-11 | 90          |
      | cola    | always on     | evergreen   | radio   | 2021-11-15 | 210         |
      | cola    | performance   | summer sale | tv      | 2020-10-05 | 60          |

  Scenario: Conversions per product per month, with a zero where a product sold nothing
    When I ask for a report with "dimensions=product&granularity=month&start_date=2021-07-01&end_date=2021-08-31"
    Then the report rows are:
      | period  | product | conversions |
      | 2021-07 | cola    | 100         |
      | 2021-07 | juice   | 30          |
      | 2021-08 | cola    | 50          |
      | 2021-08 | juice   | 0           |
    And the report's total conversions are 180

  Scenario: This quarter against the last one
    When I ask for a report with "granularity=quarter&start_date=2021-10-01&end_date=2021-12-31&compare=previous_period"
    Then the report rows are:
      | period  | conversions | previous | change |
      | 2021-Q4 | 300         | 180      | 0.6667 |

  Scenario: This quarter against the same quarter a year ago, per product
    When I ask for a report with "dimensions=product&granularity=quarter&start_date=2021-10-01&end_date=2021-12-31&compare=previous_year"
    Then the report rows are:
      | period  | product | conversions | previous | change |
      | 2021-Q4 | cola    | 210         | 60       | 2.5    |
      | 2021-Q4 | juice   | 90          | null     | null   |

  Scenario: The ten campaigns that sold most
    Given "acme" ran campaigns "launch 1" to "launch 12", campaign n selling n times 1000
    When I ask for a report with "dimensions=campaign&order_by=-conversions&page_size=10"
    Then the report lists the campaigns "launch 12, launch 11, launch 10, launch 9, launch 8, launch 7, launch 6, launch 5, launch 4, launch 3"
    And the report has 15 rows in all

  Scenario: Where each euro of spend returned the most
    Given "acme" has these measurements:
      | product | campaign_type | campaign   | channel | date       | conversions | spend |
      | cola    | performance   | evergreen  | search  | 2022-03-01 | 800         | 100   |
      | cola    | branding      | spring     | tv      | 2022-03-01 | 900         | 600   |
      | cola    | branding      | spring     | radio   | 2022-03-02 | 120         |       |
      | cola    | branding      | spring     | ooh     | 2022-03-02 | 200         | 100   |
    When I ask for a report with "dimensions=channel&metrics=conversions,spend,roas,cpa&order_by=-roas&start_date=2022-03-01&end_date=2022-03-31"
    Then the report rows are:
      | channel | conversions | spend | roas | cpa    |
      | search  | 800         | 100   | 8    | 0.12   |
      | ooh     | 200         | 100   | 2    | 0.5    |
      | tv      | 900         | 600   | 1.5  | 0.67   |
      | radio   | 120         | null  | null | null   |
    And the report's total spend is 800
    And the report's total roas is 2.525

  Scenario Outline: Each channel's share in a report is its share of the channel shares
    When I ask for a report with "dimensions=channel&metrics=share&<filters>"
    And I ask for the channel sales percentages with "<filters>"
    Then each channel's share in the report is its percentage of the channel shares

    Examples:
      | filters                                    |
      | channels=radio                             |
      | products=cola&channels=tv                  |
      | start_date=2021-07-01&end_date=2021-09-30  |
      | campaigns=summer sale&channels=radio       |
      | campaign_types=branding&campaign_types=always on |

  Scenario Outline: A question the report cannot answer is refused and named
    When I ask for a report with "<parameters>"
    Then I am told that the parameter "<parameter>" is invalid

    Examples:
      | parameters                                                    | parameter          |
      | dimensions=colour                                             | dimensions         |
      | metrics=revenue                                               | metrics            |
      | compare=previous_year                                         | compare            |
      | start_date=2021-10-01&end_date=2021-12-31&compare_start_date=2021-07-01&compare_end_date=2021-09-29 | compare_end_date |
