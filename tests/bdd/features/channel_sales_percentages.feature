Feature: Each channel's share of the net sales
  As a marketing analyst
  I want to see what share of the net sales each channel brought in
  So that I can compare channels against the whole of my marketing

  Background:
    Given I am signed in as an analyst of "acme"

  Scenario: Shares of the whole, largest first, as strings with two decimals
    Given "acme" has these measurements:
      | channel | date       | conversions |
      | radio   | 2021-01-04 | 120         |
      | radio   | 2021-01-05 | 80          |
      | tv      | 2021-01-04 | 420         |
    When I ask for the channel sales percentages
    Then I see these channel shares:
      | channel | percentage |
      | tv      | 67.74      |
      | radio   | 32.26      |

  Scenario Outline: Choosing channels does not shrink the whole they are a share of
    Given "acme" has these measurements:
      | channel | date       | conversions |
      | radio   | 2021-01-04 | 200         |
      | tv      | 2021-01-04 | 420         |
    When I ask for the channel sales percentages with "<filters>"
    Then I see the channel shares "<shares>"

    Examples:
      | filters                    | shares                |
      | channels=radio             | radio 32.26           |
      | channels=tv                | tv 67.74              |
      | channels=tv&channels=radio | tv 67.74, radio 32.26 |
      | channels=print             |                       |

  Scenario: The old spelling of the address gives the same shares
    Given "acme" has these measurements:
      | channel | date       | conversions |
      | radio   | 2021-01-04 | 200         |
      | tv      | 2021-01-04 | 420         |
    When I ask for the channel sales percentages by their old address with "channels=radio"
    Then I see the channel shares "radio 32.26"

  Scenario Outline: The whole honours every filter except the channels
    Given "acme" has these measurements:
      | product | campaign_type | campaign    | channel  | date       | conversions |
      | cola    | performance   | summer sale | tv       | 2021-01-04 | 300         |
      | cola    | performance   | summer sale | radio    | 2021-01-05 | 100         |
      | cola    | branding      | brand love  | facebook | 2021-01-11 | 400         |
      | juice   | performance   | summer sale | tv       | 2021-01-12 | 1000        |
      | juice   | always on     | evergreen   | radio    | 2021-01-18 | 600         |
    When I ask for the channel sales percentages with "<filters>"
    Then I see the channel shares "<shares>"

    Examples: by product
      | filters                                     | shares                                |
      | products=cola                               | facebook 50.00, tv 37.50, radio 12.50 |
      | products=cola&channels=radio                | radio 12.50                           |
      | products=juice&channels=tv                  | tv 62.50                              |
      | products=juice&products=cola&channels=radio | radio 29.17                           |

    Examples: by campaign and campaign type
      | filters                                                         | shares               |
      | campaigns=summer sale                                           | tv 92.86, radio 7.14 |
      | campaigns=summer sale&channels=radio                            | radio 7.14           |
      | campaign_types=performance&channels=tv                          | tv 92.86             |
      | campaign_types=branding                                         | facebook 100.00      |
      | campaign_types=always on&campaign_types=branding&channels=radio | radio 60.00          |

    Examples: by date
      | filters                                               | shares                |
      | start_date=2021-01-04&end_date=2021-01-05             | tv 75.00, radio 25.00 |
      | end_date=2021-01-05&channels=radio                    | radio 25.00           |
      | start_date=2021-01-11&end_date=2021-01-12&channels=tv | tv 71.43              |
      | start_date=2021-01-12&channels=radio                  | radio 37.50           |

    Examples: without filters
      | filters | shares                                |
      |         | tv 54.17, radio 29.17, facebook 16.67 |

  Scenario: Channels without any sales have a share of zero
    Given "acme" has these measurements:
      | channel | date       | conversions |
      | radio   | 2021-01-04 | 0           |
      | tv      | 2021-01-04 | 0           |
    When I ask for the channel sales percentages
    Then I see these channel shares:
      | channel | percentage |
      | radio   | 0.00       |
      | tv      | 0.00       |

  Scenario: A channel with no sales among channels with sales has "0.00"
    Given "acme" has these measurements:
      | channel | date       | conversions |
      | radio   | 2021-01-04 | 0           |
      | tv      | 2021-01-04 | 50          |
    When I ask for the channel sales percentages
    Then I see the channel shares "tv 100.00, radio 0.00"

  Scenario: Channels with equal shares come in alphabetical order
    Given "acme" has these measurements:
      | channel  | date       | conversions |
      | tv       | 2021-01-04 | 50          |
      | radio    | 2021-01-04 | 50          |
      | print    | 2021-01-04 | 10          |
      | facebook | 2021-01-04 | 50          |
    When I ask for the channel sales percentages
    Then I see the channel shares "facebook 31.25, radio 31.25, tv 31.25, print 6.25"

  Scenario Outline: Shares are rounded to two decimals, half away from zero
    Given "acme" sold <radio> on radio and <tv> on tv
    When I ask for the channel sales percentages with "channels=radio"
    Then I see the channel shares "radio <percentage>"

    Examples:
      | radio | tv     | percentage | why                                  |
      | 1     | 7      | 12.50      | 1 of 8 is exactly 12.5 %             |
      | 7     | 1      | 87.50      | 7 of 8 is exactly 87.5 %             |
      | 1     | 2      | 33.33      | 1 of 3 rounds down                   |
      | 2     | 1      | 66.67      | 2 of 3 rounds up                     |
      | 1     | 799    | 0.13       | 1 of 800 is exactly 0.125 %: half up |
      | 9     | 791    | 1.13       | 9 of 800 is exactly 1.125 %: half up |
      | 1     | 1599   | 0.06       | 1 of 1600 is 0.0625 %                |
      | 5     | 39995  | 0.01       | 5 of 40000 is 0.0125 %               |
      | 1     | 199999 | 0.00       | 1 of 200000 is 0.0005 %              |
      | 200   | 420    | 32.26      | the contract's example               |
      | 3     | 0      | 100.00     | all of it                            |
      | 0.5   | 0.25   | 66.67      | fractions of a sale                  |

  Scenario: Pages of shares continue from the largest to the smallest
    Given "acme" has these measurements:
      | channel  | date       | conversions |
      | tv       | 2021-01-04 | 40          |
      | radio    | 2021-01-04 | 30          |
      | print    | 2021-01-04 | 20          |
      | facebook | 2021-01-04 | 10          |
    When I ask for the channel sales percentages with "page_size=2&offset=1"
    Then I see the channel shares "radio 30.00, print 20.00"

  Scenario Outline: A filter value that matches nothing gives an empty list
    Given "acme" has these measurements:
      | channel | date       | conversions |
      | tv      | 2021-01-04 | 420         |
    When I ask for the channel sales percentages with "<filters>"
    Then I see no rows

    Examples:
      | filters               |
      | channels=snapchat     |
      | products=lemonade     |
      | start_date=2022-01-01 |

  Scenario: A start date after the end date is refused with an explanation
    When I ask for the channel sales percentages with "start_date=2021-02-01&end_date=2021-01-31"
    Then I am refused with status 400 and the message "End date should be greater than start date"

  Scenario Outline: A malformed parameter is refused and named
    When I ask for the channel sales percentages with "<parameters>"
    Then I am told that the parameter "<parameter>" is invalid

    Examples:
      | parameters          | parameter |
      | page_size=0         | page_size |
      | page_size=101       | page_size |
      | offset=-1           | offset    |
      | end_date=2021-13-01 | end_date  |

  Scenario: An analyst of another organisation sees none of our shares
    Given "acme" has these measurements:
      | channel | date       | conversions |
      | radio   | 2021-01-04 | 200         |
    And I am signed in as an analyst of "globex"
    When I ask for the channel sales percentages
    Then I see no rows

  Scenario: Another organisation's sales are not part of our whole
    Given "acme" has these measurements:
      | channel | date       | conversions |
      | radio   | 2021-01-04 | 200         |
      | tv      | 2021-01-04 | 420         |
    And "globex" has these measurements:
      | channel | date       | conversions |
      | radio   | 2021-01-04 | 5000        |
      | print   | 2021-01-04 | 7000        |
    When I ask for the channel sales percentages
    Then I see the channel shares "tv 67.74, radio 32.26"
