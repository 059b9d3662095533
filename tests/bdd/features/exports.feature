Feature: Exports give the analyst all of it as a file
  As a marketing analyst
  I want the whole result of my question as one file
  So that I can load it into my notebook or spreadsheet without walking through pages

  Background:
    Given I am signed in as an analyst of "acme"
    And "acme" has these measurements:
      | product | campaign_type | campaign    | channel | date       | conversions | spend |
      | cola    | performance   | summer sale | tv      | 2021-07-05 | 100.5       | 40    |
      | cola    | performance   | summer sale | radio   | 2021-07-05 | 50          |       |
      | juice   | branding      | =cheap      | tv      | 2021-07-06 | 30.25       | 12.5  |
      | cola    | always on     | evergreen   | radio   | 2021-08-02 | 210         | 0     |

  Scenario: Every measurement as a CSV file, in the list's order
    When I export the measurements with "format=csv"
    Then I get the file "measurements-2021-07-05-2021-08-02.csv" of type "text/csv"
    And the CSV file holds every row of the measurements list

  Scenario: A name that a spreadsheet would run as a formula is written as text
    When I export the measurements with "channels=tv&format=csv"
    Then the CSV file reads:
      """
      product,campaign_type,campaign,channel,date,conversions,spend
      cola,performance,summer sale,tv,2021-07-05,100.5,40.00
      juice,branding,'=cheap,tv,2021-07-06,30.25,12.50
      """

  Scenario: The Accept header asks for the file
    When I export the measurements accepting "text/csv"
    Then I get the file "measurements-2021-07-05-2021-08-02.csv" of type "text/csv"

  Scenario: An exported file imports into another organisation unchanged
    When I export the measurements with "format=csv"
    And an analyst of "globex" imports the exported file
    Then "globex" has the same measurements as "acme"

  Scenario: A whole report as Parquet for my notebook
    When I export the reports with "dimensions=product&granularity=month&start_date=2021-07-01&end_date=2021-08-31&format=parquet"
    Then I get the file "report-product-month-2021-07-01-2021-08-31.parquet" of type "application/vnd.apache.parquet"
    And the Parquet file's rows are:
      | product | period  | period_start | conversions |
      | cola    | 2021-07 | 2021-07-01   | 150.5       |
      | juice   | 2021-07 | 2021-07-01   | 30.25       |
      | cola    | 2021-08 | 2021-08-01   | 210         |
      | juice   | 2021-08 | 2021-08-01   | 0           |

  Scenario: An export holds the whole result, so it takes no page
    When I export the measurements with "format=csv&page_size=50"
    Then I am refused with status 400 and the message "An export (csv) holds the whole result, not a page: leave out page_size."

  Scenario Outline: A question that cannot be answered is refused as JSON, not as a file
    When I export the <list> with "<parameters>"
    Then I am told that the parameter "<parameter>" is invalid

    Examples:
      | list         | parameters                            | parameter  |
      | measurements | format=xlsx                           | format     |
      | measurements | format=csv&start_date=July            | start_date |
      | reports      | format=parquet&dimensions=colour      | dimensions |
