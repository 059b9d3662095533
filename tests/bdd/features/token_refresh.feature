Feature: Refreshing my token without entering my password again
  As a marketing analyst whose scripts run all day
  I want to trade a refresh token for a new token when mine runs out
  So that I do not store or re-enter my password, and a stolen refresh token is caught

  Background:
    Given "ana" is an analyst of "acme"
    And "acme" has these measurements:
      | product | campaign_type | campaign    | channel | date       | conversions |
      | cola    | performance   | summer sale | tv      | 2021-01-04 | 420         |
    And I have exchanged the username "ana" and the right password for a token

  Scenario: A refresh gives me a new token and a new refresh token
    When I refresh with my refresh token
    Then I receive a new token and a new refresh token
    And the new token opens the measurements

  Scenario: A refresh token works only once, and its second use signs me out everywhere
    Given I have refreshed with my refresh token
    When I refresh with my first refresh token again
    Then I am refused as not signed in
    And neither my first nor my new token opens the measurements
    And my new refresh token is refused too

  Scenario Outline: A refresh token that is no longer live gives nothing
    Given my refresh token has been <what>
    When I refresh with my refresh token
    Then I am refused with status 401 and the message "<message>"

    Examples:
      | what    | message                          |
      | expired | This refresh token has expired.  |
      | revoked | This refresh token is revoked.   |

  Scenario: A refresh token that was never issued gives nothing
    When I refresh with the refresh token "mopr_made-up"
    Then I am refused with status 401 and the message "Unknown refresh token."

  Scenario: Signing out with my token ends my refresh token too
    When I revoke my token
    And I refresh with my refresh token
    Then I am refused as not signed in
