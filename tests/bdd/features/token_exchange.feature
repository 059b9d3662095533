Feature: Exchanging my username and password for a token
  As a marketing analyst
  I want to trade my login for a bearer token
  So that my dashboard can read my organisation's marketing data

  Background:
    Given "ana" is an analyst of "acme"
    And "acme" has these measurements:
      | product | campaign_type | campaign    | channel | date       | conversions |
      | cola    | performance   | summer sale | tv      | 2021-01-04 | 420         |
      | cola    | performance   | summer sale | radio   | 2021-01-04 | 200         |

  Scenario Outline: The right username and password give me a token
    When I <method> "<path>" with the username "ana" and the right password
    Then I receive a token

    Examples:
      | method | path             |
      | GET    | /api/auth/token/ |
      | POST   | /api/auth/token/ |
      | GET    | /api/token/      |

  Scenario Outline: Wrong credentials give no token
    When I GET "<path>" with the username "<username>" and the <which> password
    Then I am refused as not signed in

    Examples:
      | path             | username | which |
      | /api/auth/token/ | ana      | wrong |
      | /api/auth/token/ | nobody   | right |
      | /api/auth/token/ | nobody   | wrong |
      | /api/token/      | ana      | wrong |

  Scenario: A wrong password sent with POST gives no token
    When I POST "/api/auth/token/" with the username "ana" and the wrong password
    Then I am refused as not signed in

  Scenario Outline: A malformed Basic header gives no token
    When I GET "/api/auth/token/" with the Authorization header "<header>"
    Then I am refused as not signed in

    Examples:
      | header                         |
      | Basic                          |
      | Basic !!!not-base64!!!         |
      | Basic YW5hLXdpdGhvdXQtY29sb24= |
      | Basic YW5h OnBhc3N3b3Jk        |
      | Bearer YW5hOnNlY3JldA==        |
      | Digest username="ana"          |

  Scenario Outline: Asking without any credentials gives no token
    When I <method> "<path>" without an Authorization header
    Then I am refused as not signed in

    Examples:
      | method | path             |
      | GET    | /api/auth/token/ |
      | POST   | /api/auth/token/ |
      | GET    | /api/token/      |

  Scenario Outline: The token opens every report of my organisation
    Given I have exchanged the username "ana" and the right password for a token
    When I ask for the <report> with that token
    Then the answer has status 200
    And I see rows for the channels "<channels>"

    Examples:
      | report                    | channels  |
      | measurements              | radio, tv |
      | channel sales percentages | tv, radio |
      | channel weekly sales      | radio, tv |

  Scenario Outline: A bearer value that is not a live token is refused, not a server error
    When I ask for the <report> with the Authorization header "<header>"
    Then I am refused as not signed in

    Examples:
      | report                    | header                                      |
      | measurements              | Bearer abc                                  |
      | measurements              | Bearer                                      |
      | measurements              | Bearer 6f1c1e8e-2b7a-4c0e-9a57-3d2f6a1b9c11 |
      | measurements              | Bearer mop_not-a-token-that-was-ever-issued |
      | measurements              | Token abc                                   |
      | channel sales percentages | Bearer abc                                  |
      | channel sales percentages | Bearer                                      |
      | channel weekly sales      | Bearer abc                                  |
      | channel weekly sales      | Bearer                                      |

  Scenario Outline: The reports are closed without a token
    When I ask for the <report> without an Authorization header
    Then I am refused as not signed in

    Examples:
      | report                    |
      | measurements              |
      | channel sales percentages |
      | channel weekly sales      |

  Scenario: My login and password are not a bearer token
    When I ask for the measurements with the username "ana" and the right password
    Then I am refused as not signed in

  Scenario Outline: An expired or revoked token no longer opens the reports
    Given I have exchanged the username "ana" and the right password for a token
    And that token has been <what>
    When I ask for the measurements with that token
    Then I am refused as not signed in

    Examples:
      | what    |
      | expired |
      | revoked |
