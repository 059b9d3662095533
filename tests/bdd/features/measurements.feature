Feature: Browsing my organisation's daily measurements
  As a marketing analyst
  I want to list the daily conversions per product, campaign and channel
  So that I can check the numbers behind every chart, page by page

  Background:
    Given I am signed in as an analyst of "acme"
    And "acme" has these measurements:
      | product | campaign_type | campaign    | channel  | date       | conversions |
      | juice   | branding      | brand love  | tv       | 2021-01-08 | 5           |
      | cola    | performance   | summer sale | tv       | 2021-01-04 | 1           |
      | water   | performance   | summer sale | tv       | 2021-01-07 | 4           |
      | cola    | branding      | brand love  | radio    | 2021-01-05 | 2           |
      | juice   | always on     | evergreen   | facebook | 2021-01-06 | 3           |

  Scenario: Every measurement comes with all its details
    When I ask for the measurements
    Then I see these measurements:
      | product | campaign_type | campaign    | channel  | date       | conversions |
      | cola    | performance   | summer sale | tv       | 2021-01-04 | 1           |
      | cola    | branding      | brand love  | radio    | 2021-01-05 | 2           |
      | juice   | always on     | evergreen   | facebook | 2021-01-06 | 3           |
      | water   | performance   | summer sale | tv       | 2021-01-07 | 4           |
      | juice   | branding      | brand love  | tv       | 2021-01-08 | 5           |

  Scenario: Measurements of the same day come by product, campaign type, campaign, then channel
    Given "acme" has these measurements:
      | product | campaign_type | campaign  | channel  | date       | conversions |
      | water   | always on     | evergreen | tv       | 2021-02-01 | 10          |
      | cola    | performance   | spring    | tv       | 2021-02-01 | 11          |
      | cola    | branding      | winter    | radio    | 2021-02-01 | 12          |
      | cola    | branding      | autumn    | tv       | 2021-02-01 | 13          |
      | cola    | branding      | autumn    | facebook | 2021-02-01 | 14          |
      | cola    | always on     | evergreen | tv       | 2021-02-01 | 15          |
      | juice   | always on     | evergreen | tv       | 2021-01-31 | 16          |
    When I ask for the measurements with "start_date=2021-01-31"
    Then I see these measurements:
      | product | campaign_type | campaign  | channel  | date       | conversions |
      | juice   | always on     | evergreen | tv       | 2021-01-31 | 16          |
      | cola    | always on     | evergreen | tv       | 2021-02-01 | 15          |
      | cola    | branding      | autumn    | facebook | 2021-02-01 | 14          |
      | cola    | branding      | autumn    | tv       | 2021-02-01 | 13          |
      | cola    | branding      | winter    | radio    | 2021-02-01 | 12          |
      | cola    | performance   | spring    | tv       | 2021-02-01 | 11          |
      | water   | always on     | evergreen | tv       | 2021-02-01 | 10          |

  Scenario Outline: Filters choose which measurements I see
    When I ask for the measurements with "<filters>"
    Then I see the measurements with conversions "<conversions>"

    Examples: one filter
      | filters                  | conversions |
      | products=cola            | 1, 2        |
      | products=juice           | 3, 5        |
      | campaigns=summer sale    | 1, 4        |
      | campaign_types=branding  | 2, 5        |
      | campaign_types=always on | 3           |
      | channels=tv              | 1, 4, 5     |
      | channels=facebook        | 3           |

    Examples: a repeated filter matches any of its values
      | filters                                             | conversions |
      | products=cola&products=water                        | 1, 2, 4     |
      | channels=tv&channels=radio                          | 1, 2, 4, 5  |
      | campaigns=evergreen&campaigns=brand love            | 2, 3, 5     |
      | campaign_types=always on&campaign_types=performance | 1, 3, 4     |

    Examples: different filters must all match
      | filters                                          | conversions |
      | products=cola&channels=tv                        | 1           |
      | products=juice&campaign_types=branding           | 5           |
      | campaigns=summer sale&channels=tv&products=water | 4           |
      | channels=tv&start_date=2021-01-05                | 4, 5        |

    Examples: both dates are inclusive
      | filters                                   | conversions |
      | start_date=2021-01-05&end_date=2021-01-07 | 2, 3, 4     |
      | start_date=2021-01-06&end_date=2021-01-06 | 3           |
      | start_date=2021-01-07                     | 4, 5        |
      | end_date=2021-01-05                       | 1, 2        |
      | start_date=2021-01-09                     |             |
      | end_date=2021-01-03                       |             |

  Scenario Outline: A filter value that matches nothing gives an empty list
    When I ask for the measurements with "<filters>"
    Then I see no rows

    Examples:
      | filters                   |
      | channels=snapchat         |
      | channels=TV               |
      | products=lemonade         |
      | campaigns=black friday    |
      | campaign_types=awareness  |
      | channels=tv&products=nope |

  Scenario: A start date after the end date is refused with an explanation
    When I ask for the measurements with "start_date=2021-01-08&end_date=2021-01-04"
    Then I am refused with status 400 and the message "End date should be greater than start date"

  Scenario Outline: A malformed parameter is refused and named
    When I ask for the measurements with "<parameters>"
    Then I am told that the parameter "<parameter>" is invalid

    Examples:
      | parameters            | parameter  |
      | page_size=0           | page_size  |
      | page_size=101         | page_size  |
      | page_size=-3          | page_size  |
      | page_size=ten         | page_size  |
      | offset=-1             | offset     |
      | offset=first          | offset     |
      | start_date=yesterday  | start_date |
      | start_date=2021-02-30 | start_date |
      | end_date=31/01/2021   | end_date   |

  Scenario Outline: Page sizes from 1 to 100 are accepted
    When I ask for the measurements with "page_size=<page_size>"
    Then I see the measurements with conversions "<conversions>"

    Examples:
      | page_size | conversions   |
      | 1         | 1             |
      | 3         | 1, 2, 3       |
      | 100       | 1, 2, 3, 4, 5 |

  Scenario: Ten measurements come on a page unless I ask otherwise
    Given "acme" has one measurement on every day from 2021-03-01 to 2021-03-12
    When I ask for the measurements with "start_date=2021-03-01"
    Then I see the measurements of every day from 2021-03-01 to 2021-03-10

  Scenario: An offset skips the first measurements
    When I ask for the measurements with "offset=2&page_size=2"
    Then I see the measurements with conversions "3, 4"

  Scenario: An offset beyond the last measurement gives an empty page
    When I ask for the measurements with "offset=5"
    Then I see no rows

  Scenario Outline: Walking the pages visits every measurement exactly once
    Given "acme" runs the campaigns "summer sale" (performance) and "brand love" (branding) for the products "cola, juice, water" on the channels "facebook, radio, tv" every day from 2021-03-01 to 2021-03-04
    When I walk through the measurements <page_size> at a time with "<filters>"
    Then I have seen every matching measurement exactly once, in date, product, campaign type, campaign and channel order

    Examples:
      | page_size | filters                                                         |
      | 1         | start_date=2021-03-01                                           |
      | 7         | start_date=2021-03-01                                           |
      | 10        | start_date=2021-03-01                                           |
      | 72        | start_date=2021-03-01                                           |
      | 100       | start_date=2021-03-01                                           |
      | 5         | start_date=2021-03-02&channels=tv&channels=radio                |
      | 4         | products=water&campaign_types=branding                          |
      | 9         | campaigns=summer sale&start_date=2021-03-01&end_date=2021-03-02 |

  Scenario: An analyst of another organisation sees none of these measurements
    Given I am signed in as an analyst of "globex"
    When I ask for the measurements
    Then I see no rows

  Scenario: Each organisation sees only its own measurements
    Given "globex" has these measurements:
      | product | campaign_type | campaign    | channel | date       | conversions |
      | cola    | performance   | summer sale | tv      | 2021-01-04 | 999         |
    When I ask for the measurements with "products=cola&channels=tv"
    Then I see the measurements with conversions "1"
