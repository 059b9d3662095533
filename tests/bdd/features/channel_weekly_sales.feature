Feature: Net sales per channel per week
  As a marketing analyst
  I want the net sales of each channel summed per ISO week
  So that I can follow the channels week by week

  Background:
    Given I am signed in as an analyst of "acme"

  Scenario Outline: A day belongs to the ISO week of its Monday
    Given "acme" sold 10 on tv on <date>
    When I ask for the channel weekly sales
    Then I see the weekly sales of tv in year <year>, week <week> as 10

    Examples:
      | date       | year | week | why                                       |
      | 2021-01-01 | 2020 | 53   | a Friday: its Monday is 2020-12-28        |
      | 2021-01-03 | 2020 | 53   | the Sunday that ends week 53              |
      | 2021-01-04 | 2021 | 1    | the first Monday of 2021                  |
      | 2024-12-29 | 2024 | 52   | the Sunday before                         |
      | 2024-12-30 | 2025 | 1    | a Monday in December that opens 2025      |
      | 2025-01-05 | 2025 | 1    | the Sunday that ends week 1               |
      | 2019-12-30 | 2020 | 1    | another December Monday that opens a year |
      | 2016-01-03 | 2015 | 53   | a January Sunday in the year before       |
      | 2026-12-31 | 2026 | 53   | a Thursday in a 53-week year              |

  Scenario: Weeks across the turn of the year
    Given "acme" has these measurements:
      | channel | date       | conversions |
      | tv      | 2020-12-27 | 1           |
      | tv      | 2020-12-28 | 2           |
      | tv      | 2021-01-01 | 4           |
      | tv      | 2021-01-03 | 8           |
      | tv      | 2021-01-04 | 16          |
      | tv      | 2024-12-29 | 32          |
      | tv      | 2024-12-30 | 64          |
      | tv      | 2025-01-01 | 128         |
      | tv      | 2025-01-06 | 256         |
    When I ask for the channel weekly sales
    Then I see these weekly sales:
      | channel | year | week | sales |
      | tv      | 2020 | 52   | 1     |
      | tv      | 2020 | 53   | 14    |
      | tv      | 2021 | 1    | 16    |
      | tv      | 2024 | 52   | 32    |
      | tv      | 2025 | 1    | 192   |
      | tv      | 2025 | 2    | 256   |

  Scenario: Rows come by week, then channel, with exact sums
    Given "acme" has these measurements:
      | product | campaign    | channel  | date       | conversions |
      | cola    | summer sale | tv       | 2021-01-12 | 100.125     |
      | cola    | summer sale | radio    | 2021-01-05 | 0.5         |
      | juice   | summer sale | tv       | 2021-01-04 | 0.25        |
      | cola    | brand love  | tv       | 2021-01-04 | 0.5         |
      | cola    | summer sale | facebook | 2021-01-10 | 2242.0625   |
      | cola    | summer sale | radio    | 2021-01-11 | 3           |
      | juice   | summer sale | tv       | 2021-01-17 | 0.375       |
      | cola    | summer sale | facebook | 2021-01-04 | 0.0625      |
    When I ask for the channel weekly sales
    Then I see these weekly sales:
      | channel  | year | week | sales    |
      | facebook | 2021 | 1    | 2242.125 |
      | radio    | 2021 | 1    | 0.5      |
      | tv       | 2021 | 1    | 0.75     |
      | radio    | 2021 | 2    | 3        |
      | tv       | 2021 | 2    | 100.5    |

  Scenario Outline: A week cut by the date range holds only the days inside it
    Given "acme" sold 1.5 on tv every day from 2021-01-04 to 2021-01-17
    And "acme" sold 0.25 on radio every day from 2021-01-04 to 2021-01-17
    When I ask for the channel weekly sales with "<dates>"
    Then I see the weekly sales "<sales>"

    Examples:
      | dates                                     | sales                                                                |
      |                                           | radio 2021 1 1.75, tv 2021 1 10.5, radio 2021 2 1.75, tv 2021 2 10.5 |
      | start_date=2021-01-07                     | radio 2021 1 1, tv 2021 1 6, radio 2021 2 1.75, tv 2021 2 10.5       |
      | end_date=2021-01-12                       | radio 2021 1 1.75, tv 2021 1 10.5, radio 2021 2 0.5, tv 2021 2 3     |
      | start_date=2021-01-10&end_date=2021-01-11 | radio 2021 1 0.25, tv 2021 1 1.5, radio 2021 2 0.25, tv 2021 2 1.5   |
      | start_date=2021-01-13&end_date=2021-01-13 | radio 2021 2 0.25, tv 2021 2 1.5                                     |

  Scenario Outline: Filters choose which sales are summed
    Given "acme" has these measurements:
      | product | campaign_type | campaign    | channel  | date       | conversions |
      | cola    | performance   | summer sale | tv       | 2021-01-04 | 1           |
      | cola    | branding      | brand love  | tv       | 2021-01-05 | 2           |
      | juice   | performance   | summer sale | tv       | 2021-01-06 | 4           |
      | juice   | always on     | evergreen   | radio    | 2021-01-07 | 8           |
      | water   | performance   | summer sale | facebook | 2021-01-08 | 16          |
    When I ask for the channel weekly sales with "<filters>"
    Then I see the weekly sales "<sales>"

    Examples:
      | filters                                          | sales                                           |
      | products=cola                                    | tv 2021 1 3                                     |
      | products=juice&products=water                    | facebook 2021 1 16, radio 2021 1 8, tv 2021 1 4 |
      | campaigns=summer sale                            | facebook 2021 1 16, tv 2021 1 5                 |
      | campaign_types=branding&campaign_types=always on | radio 2021 1 8, tv 2021 1 2                     |
      | channels=tv                                      | tv 2021 1 7                                     |
      | channels=radio&channels=facebook                 | facebook 2021 1 16, radio 2021 1 8              |
      | channels=tv&products=juice                       | tv 2021 1 4                                     |
      | channels=snapchat                                |                                                 |
      | products=lemonade                                |                                                 |

  Scenario: The example of the old documentation
    Given "acme" has these measurements:
      | channel  | date       | conversions |
      | facebook | 2019-12-31 | 1000        |
      | facebook | 2020-01-01 | 5000.5      |
      | facebook | 2020-01-05 | 333.25      |
      | facebook | 2020-01-06 | 13225.75    |
      | tv       | 2020-01-06 | 7777        |
      | facebook | 2020-02-02 | 42          |
    When I ask for the channel weekly sales with "channels=facebook&start_date=2020-01-01&end_date=2020-02-01"
    Then I see these weekly sales:
      | channel  | year | week | sales    |
      | facebook | 2020 | 1    | 5333.75  |
      | facebook | 2020 | 2    | 13225.75 |

  Scenario: Pages of weekly sales follow the same order
    Given "acme" sold 1.5 on tv every day from 2021-01-04 to 2021-01-17
    And "acme" sold 0.25 on radio every day from 2021-01-04 to 2021-01-17
    When I ask for the channel weekly sales with "page_size=2&offset=1"
    Then I see the weekly sales "tv 2021 1 10.5, radio 2021 2 1.75"

  Scenario: A start date after the end date is refused with an explanation
    When I ask for the channel weekly sales with "start_date=2021-01-05&end_date=2021-01-04"
    Then I am refused with status 400 and the message "End date should be greater than start date"

  Scenario Outline: A malformed parameter is refused and named
    When I ask for the channel weekly sales with "<parameters>"
    Then I am told that the parameter "<parameter>" is invalid

    Examples:
      | parameters        | parameter  |
      | page_size=0       | page_size  |
      | page_size=101     | page_size  |
      | offset=-1         | offset     |
      | start_date=monday | start_date |

  Scenario: An analyst of another organisation sees none of our weekly sales
    Given "acme" sold 10 on tv on 2021-01-04
    And I am signed in as an analyst of "globex"
    When I ask for the channel weekly sales
    Then I see no rows

  Scenario: Another organisation's sales are not added to ours
    Given "acme" sold 10 on tv on 2021-01-04
    And "globex" sold 1000 on tv on 2021-01-05
    When I ask for the channel weekly sales
    Then I see the weekly sales of tv in year 2021, week 1 as 10
