Feature: Importing a model run's measurements, with their spend
  As a marketing analyst
  I want to upload the model's file with the media spend beside the conversions
  So that reports can tell me what each euro of spend returned

  Background:
    Given I am signed in as an analyst of "acme" who may import

  Scenario: A spend column gives each measurement its spend; an empty spend is unknown
    When I upload this CSV file:
      """
      product,campaign_type,campaign,channel,date,conversions,spend
      cola,performance,summer sale,tv,2021-01-04,100,40.5
      cola,performance,summer sale,radio,2021-01-04,30,
      """
    Then the import is accepted with 2 rows inserted, 0 updated and 0 unchanged
    And the measurements are:
      | channel | date       | conversions | spend |
      | radio   | 2021-01-04 | 30          | null  |
      | tv      | 2021-01-04 | 100         | 40.5  |

  Scenario: A JSON row's spend is a number, or null or left out when unknown
    When I upload this JSON list:
      """
      [{"product": "cola", "campaign_type": "performance", "campaign": "summer sale",
        "channel": "tv", "date": "2021-01-04", "conversions": 100, "spend": 40.5},
       {"product": "cola", "campaign_type": "performance", "campaign": "summer sale",
        "channel": "radio", "date": "2021-01-04", "conversions": 30, "spend": null},
       {"product": "cola", "campaign_type": "performance", "campaign": "summer sale",
        "channel": "ooh", "date": "2021-01-04", "conversions": 8}]
      """
    Then the import is accepted with 3 rows inserted, 0 updated and 0 unchanged
    And the measurements are:
      | channel | date       | conversions | spend |
      | ooh     | 2021-01-04 | 8           | null  |
      | radio   | 2021-01-04 | 30          | null  |
      | tv      | 2021-01-04 | 100         | 40.5  |

  Scenario: A file without the spend column still imports, and says the spend is unknown
    Given I uploaded this CSV file:
      """
      product,campaign_type,campaign,channel,date,conversions,spend
      cola,performance,summer sale,tv,2021-01-04,100,40.5
      cola,performance,summer sale,tv,2021-01-05,90,30
      """
    When I upload this CSV file:
      """
      product,campaign_type,campaign,channel,date,conversions
      cola,performance,summer sale,tv,2021-01-05,90
      cola,performance,summer sale,tv,2021-01-06,70
      """
    Then the import is accepted with 1 rows inserted, 1 updated and 0 unchanged
    And the measurements are:
      | channel | date       | conversions | spend |
      | tv      | 2021-01-04 | 100         | 40.5  |
      | tv      | 2021-01-05 | 90          | null  |
      | tv      | 2021-01-06 | 70          | null  |

  Scenario Outline: A spend that is not a number from 0 to 10^15 rejects the file, naming line and column
    Given I uploaded this CSV file:
      """
      product,campaign_type,campaign,channel,date,conversions,spend
      cola,performance,summer sale,tv,2021-01-04,100,40.5
      """
    When I upload a CSV file whose third line has the spend "<spend>"
    Then the import is rejected for line 3, column "spend", value "<spend>": "<message>"
    And the measurements are:
      | channel | date       | conversions | spend |
      | tv      | 2021-01-04 | 100         | 40.5  |

    Examples:
      | spend  | message                                          |
      | -10    | must be a finite number, not negative            |
      | twelve | is not a number                                  |
      | 1e16   | must be at most 1e+15, so that sums stay finite  |
